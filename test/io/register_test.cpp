// uring::on_every_ring, register_files / register_buffers (all or nothing, on every worker's
// ring), and fixed-file / fixed-buffer I/O from tasks on any worker.
#include <gorun/blocking.hpp>
#include <gorun/uring.hpp>

#include "harness.hpp"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

using gorun::test::open_fds;

// Makes the next operator new[] on this thread throw std::bad_alloc (an allocation failure at
// a chosen point; see the buffer_ring test below). Not under ThreadSanitizer, whose runtime
// defines operator new[] itself (a second definition does not link).
thread_local bool fail_next_array_new = false;

}  // namespace

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GORUN_TEST_NO_ARRAY_NEW_FAULT 1
#endif
#endif

#ifndef GORUN_TEST_NO_ARRAY_NEW_FAULT
void* operator new[](std::size_t n) {
    if (fail_next_array_new) {
        fail_next_array_new = false;
        throw std::bad_alloc();
    }
    return ::operator new(n);
}
void operator delete[](void* p) noexcept {
    ::operator delete(p);
}
void operator delete[](void* p, std::size_t) noexcept {
    ::operator delete(p);
}
#endif

namespace {

// A temporary file holding `n` bytes of a pattern; removed on destruction.
struct temp_file {
    int fd = -1;
    std::string path;
    explicit temp_file(std::size_t n) {
        char tmpl[] = "/tmp/gorun-register-XXXXXX";
        fd = ::mkostemp(tmpl, O_CLOEXEC);
        REQUIRE(fd >= 0);
        path = tmpl;
        std::vector<unsigned char> v(n);
        for (std::size_t i = 0; i < n; ++i)
            v[i] = static_cast<unsigned char>(i * 7 + 3);
        REQUIRE(::write(fd, v.data(), n) == static_cast<ssize_t>(n));
    }
    ~temp_file() {
        ::close(fd);
        ::unlink(path.c_str());
    }
    static unsigned char at(std::size_t i) { return static_cast<unsigned char>(i * 7 + 3); }
};

// Hops through the blocking pool: the task comes back on whichever worker picks it up.
gorun::task<> hop() {
    co_await gorun::blocking([] {});
}

}  // namespace

GORUN_TEST_CASE("on_every_ring runs once on each worker's own thread with that worker's ring") {
    std::vector<io_uring*> rings(gorun::test::workers(), nullptr);
    std::vector<std::thread::id> threads(gorun::test::workers());
    auto res = co_await gorun::uring::on_every_ring([&](io_uring* r, unsigned i) {
        rings[i] = r;
        threads[i] = std::this_thread::get_id();
        // On the ring's own thread, registering works (SINGLE_ISSUER); probe with a sparse
        // table, and take it away again.
        int e = io_uring_register_files_sparse(r, 4);
        if (e == 0)
            e = io_uring_unregister_files(r);
        return e;
    });
    REQUIRE(res.size() == gorun::test::workers());
    for (int r : res)
        CHECK(r == 0);
    CHECK(std::set<io_uring*>(rings.begin(), rings.end()).size() == rings.size());
    CHECK(std::set<std::thread::id>(threads.begin(), threads.end()).size() == threads.size());
    CHECK(rings.front() != nullptr);
}

GORUN_TEST_CASE("on_every_ring rethrows an exception from the function after every worker ran") {
    std::atomic<unsigned> ran{0};
    bool thrown = false;
    try {
        (void)co_await gorun::uring::on_every_ring([&](io_uring*, unsigned i) -> int {
            ran.fetch_add(1);
            if (i == 0)
                throw std::runtime_error("worker 0");
            return 0;
        });
    } catch (const std::runtime_error& e) {
        thrown = std::string(e.what()) == "worker 0";
    }
    CHECK(thrown);
    CHECK(ran.load() == gorun::test::workers());
}

GORUN_TEST_CASE("registered files serve IOSQE_FIXED_FILE reads from tasks on every worker") {
    int base = open_fds();
    {
        temp_file f(4096);
        int fds[] = {f.fd};
        REQUIRE(co_await gorun::uring::register_files(fds));
        // Many tasks, hopping between workers, each reading through fixed index 0.
        std::atomic<int> ok{0};
        std::atomic<int> bad{0};
        std::vector<io_uring*> used(64, nullptr);
        gorun::wait_group wg;
        for (int t = 0; t < 64; ++t)
            wg.go(
                [](int t, std::atomic<int>* ok, std::atomic<int>* bad, io_uring** used)
                    -> gorun::task<> {
                    co_await hop();
                    unsigned char buf[64];
                    unsigned off = static_cast<unsigned>(t) * 64;
                    used[t] = gorun::uring::current_ring();
                    int r = co_await gorun::uring::op([&](io_uring_sqe* sqe) {
                        io_uring_prep_read(sqe, 0, buf, sizeof buf, off);
                        sqe->flags |= IOSQE_FIXED_FILE;
                    });
                    bool good = r == 64;
                    for (int i = 0; good && i < 64; ++i)
                        good = buf[i] == temp_file::at(off + static_cast<unsigned>(i));
                    (good ? ok : bad)->fetch_add(1);
                },
                t,
                &ok,
                &bad,
                used.data());
        co_await wg.wait();
        CHECK(ok.load() == 64);
        CHECK(bad.load() == 0);
        MESSAGE(
            "rings used by the 64 tasks: " << std::set<io_uring*>(used.begin(), used.end()).size());
        // Where the tasks land is the scheduler's choice (an idle worker may sleep through the
        // whole test), so "on every ring" is checked on each ring itself: updating slot 0 of
        // the table succeeds (1 slot updated) only where a table is registered; ENXIO if not.
        auto update_slot0 = [&](io_uring* r, unsigned) {
            return io_uring_register_files_update(r, 0, fds, 1);
        };
        auto probe = co_await gorun::uring::on_every_ring(update_slot0);
        REQUIRE(probe.size() == gorun::test::workers());
        for (int p : probe)
            CHECK(p == 1);
        // A second table is refused on every ring, and the first one stays usable.
        auto again = co_await gorun::uring::register_files(fds);
        CHECK(again.error() == std::errc::device_or_resource_busy);
        unsigned char b = 0;
        CHECK(
            co_await gorun::uring::op([&](io_uring_sqe* sqe) {
                io_uring_prep_read(sqe, 0, &b, 1, 5);
                sqe->flags |= IOSQE_FIXED_FILE;
            })
            == 1);
        CHECK(b == temp_file::at(5));
        REQUIRE(co_await gorun::uring::unregister_files());
        // Gone everywhere: a fixed-file read now fails, and unregistering again reports ENXIO.
        CHECK(
            co_await gorun::uring::op([&](io_uring_sqe* sqe) {
                io_uring_prep_read(sqe, 0, &b, 1, 5);
                sqe->flags |= IOSQE_FIXED_FILE;
            })
            == -EBADF);
        probe = co_await gorun::uring::on_every_ring(update_slot0);
        for (int p : probe)
            CHECK(p == -ENXIO);
        CHECK(
            (co_await gorun::uring::unregister_files()).error()
            == std::errc::no_such_device_or_address);
    }
    CHECK(open_fds() == base);
}

GORUN_TEST_CASE_WITH("registration is all or nothing: one refusing ring undoes the others", {4u}) {
    temp_file f(16);
    int fds[] = {f.fd};
    // Worker 2 alone gets a table first, so it will refuse the next one (EBUSY).
    auto pre = co_await gorun::uring::on_every_ring(
        [&](io_uring* r, unsigned i) { return i == 2 ? io_uring_register_files(r, fds, 1) : 0; });
    REQUIRE(pre[2] == 0);
    auto res = co_await gorun::uring::register_files(fds);
    CHECK(res.error() == std::errc::device_or_resource_busy);
    // The other rings were rolled back: only worker 2 has a table to unregister.
    auto left = co_await gorun::uring::on_every_ring(
        [](io_uring* r) { return io_uring_unregister_files(r); });
    for (unsigned i = 0; i < left.size(); ++i)
        CHECK(left[i] == (i == 2 ? 0 : -ENXIO));
}

GORUN_TEST_CASE("registered buffers serve read_fixed/write_fixed from tasks on every worker") {
    temp_file f(32 * 256);
    constexpr int n = 32;
    std::vector<std::vector<unsigned char>> mem(n, std::vector<unsigned char>(256, 0));
    std::vector<iovec> iov(n);
    for (int i = 0; i < n; ++i)
        iov[i] = {mem[i].data(), mem[i].size()};
    REQUIRE(co_await gorun::uring::register_buffers(iov));
    std::atomic<int> ok{0};
    gorun::wait_group wg;
    for (int t = 0; t < n; ++t)
        wg.go(
            [](int t, int fd, unsigned char* buf, std::atomic<int>* ok) -> gorun::task<> {
                co_await hop();
                unsigned off = static_cast<unsigned>(t) * 256;
                int r = co_await gorun::uring::op([&](io_uring_sqe* sqe) {
                    io_uring_prep_read_fixed(sqe, fd, buf, 256, off, t);
                });
                bool good = r == 256;
                for (unsigned i = 0; good && i < 256; ++i)
                    good = buf[i] == temp_file::at(off + i);
                co_await hop();
                // And back out through the same registered buffer, on whatever worker this is now.
                buf[0] ^= 0xff;
                r = co_await gorun::uring::op(
                    [&](io_uring_sqe* sqe) { io_uring_prep_write_fixed(sqe, fd, buf, 1, off, t); });
                if (good && r == 1)
                    ok->fetch_add(1);
            },
            t,
            f.fd,
            mem[t].data(),
            &ok);
    co_await wg.wait();
    CHECK(ok.load() == n);
    for (int t = 0; t < n; ++t) {
        unsigned char b = 0;
        REQUIRE(::pread(f.fd, &b, 1, t * 256) == 1);
        CHECK(
            b == static_cast<unsigned char>(temp_file::at(static_cast<unsigned>(t) * 256) ^ 0xff));
    }
    REQUIRE(co_await gorun::uring::unregister_buffers());
}

GORUN_TEST_CASE(
    "a buffer ring is refused for a group id taken on a ring, and nothing stays behind") {
    auto a = co_await gorun::uring::buffer_ring::create(9, 4, 64);
    REQUIRE(a);
    auto b = co_await gorun::uring::buffer_ring::create(9, 4, 64);
    CHECK(!b);
    CHECK(b.error() == std::errc::file_exists);
    CHECK(!(co_await gorun::uring::buffer_ring::create(10, 3, 64)));  // not a power of two
    REQUIRE(co_await a->close());
    // The id is free again on every ring.
    auto c = co_await gorun::uring::buffer_ring::create(9, 4, 64);
    REQUIRE(c);
    REQUIRE(co_await c->close());
}

GORUN_TEST_CASE("buffer_ring::create lets an allocation failure propagate and leaves nothing") {
#ifdef GORUN_TEST_NO_ARRAY_NEW_FAULT
    MESSAGE("skipped: no operator new[] fault injection under ThreadSanitizer");
    co_return;
#endif
    // The first operator new[] in create() is its per-ring array, before anything is mapped
    // or registered: bad_alloc must come out of create(), not a crash in the unwinding.
    bool threw = false;
    fail_next_array_new = true;
    try {
        (void)co_await gorun::uring::buffer_ring::create(11, 4, 64);
    } catch (const std::bad_alloc&) {
        threw = true;
    }
    fail_next_array_new = false;
    CHECK(threw);
    auto b = co_await gorun::uring::buffer_ring::create(11, 4, 64);  // group 11 is free
    REQUIRE(b);
    REQUIRE(co_await b->close());
}
