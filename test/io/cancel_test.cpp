// IO-1: cancelling an op in flight (stop token from a task or a foreign thread, deadline) ends
// it through IORING_OP_ASYNC_CANCEL, and the task resumes only after the op's own completion.
#include <gorun/uring.hpp>

#include "harness.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <stop_token>
#include <string>
#include <thread>

using namespace std::chrono_literals;

namespace {

using gorun::test::open_fds;

// Waits (yielding) until `n` ops are in flight in the runtime.
gorun::task<> ops_pending(std::uint64_t n) {
    while (gorun::metrics().io_pending < n)
        co_await gorun::yield();
}

struct pipe_pair {
    int r = -1, w = -1;
    pipe_pair() {
        int fds[2];
        REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
        r = fds[0];
        w = fds[1];
    }
    ~pipe_pair() {
        ::close(r);
        ::close(w);
    }
};

gorun::task<int> read_once(int fd, char* buf, std::size_t n, gorun::io_control ctl) {
    co_return co_await gorun::uring::op(
        [&](io_uring_sqe* sqe) { io_uring_prep_read(sqe, fd, buf, static_cast<unsigned>(n), 0); },
        ctl);
}

// After a cancelled read: the buffer was not written, and the data written later is still in
// the pipe (the cancelled read did not take it).
gorun::task<> check_untouched_and_pipe_intact(pipe_pair& p, const char* buf, std::size_t n) {
    REQUIRE(::write(p.w, "x", 1) == 1);
    for (std::size_t i = 0; i < n; ++i)
        CHECK(buf[i] == '\xAA');
    char got[4] = {};
    int r = co_await read_once(p.r, got, sizeof got, {});
    CHECK(r == 1);
    CHECK(got[0] == 'x');
    for (std::size_t i = 0; i < n; ++i)
        CHECK(buf[i] == '\xAA');
}

}  // namespace

GORUN_TEST_CASE("IO-1: a stop request from another task cancels a pending read") {
    pipe_pair p;
    char buf[64];
    std::memset(buf, 0xAA, sizeof buf);
    std::stop_source src;
    auto h = gorun::spawn(read_once, p.r, buf, sizeof buf, gorun::io_control(src.get_token()));
    co_await ops_pending(1);
    src.request_stop();
    CHECK(co_await h == -ECANCELED);
    CHECK(gorun::metrics().io_pending == 0);
    CHECK(gorun::metrics().io_cancels >= 1);
    co_await check_untouched_and_pipe_intact(p, buf, sizeof buf);
}

GORUN_TEST_CASE("IO-1: a stop request from a foreign thread reaches the op's home worker") {
    pipe_pair p;
    char buf[64];
    std::memset(buf, 0xAA, sizeof buf);
    std::stop_source src;
    auto h = gorun::spawn(read_once, p.r, buf, sizeof buf, gorun::io_control(src.get_token()));
    co_await ops_pending(1);
    std::thread t([&] { src.request_stop(); });
    t.join();
    CHECK(co_await h == -ECANCELED);
    co_await check_untouched_and_pipe_intact(p, buf, sizeof buf);
}

GORUN_TEST_CASE("IO-1: a stop requested while the op is being submitted still cancels it") {
    // The stop may land before, during or after the stop_callback registration: every
    // interleaving must end in ECANCELED without submitting or after the cancel.
    pipe_pair p;
    for (int i = 0; i < 50; ++i) {
        char buf[8];
        std::memset(buf, 0xAA, sizeof buf);
        std::stop_source src;
        std::thread t([&] { src.request_stop(); });
        int r = co_await read_once(p.r, buf, sizeof buf, src.get_token());
        t.join();
        CHECK(r == -ECANCELED);
        for (char c : buf)
            CHECK(c == '\xAA');
    }
}

GORUN_TEST_CASE("IO-1: a deadline cancels a pending read with ETIMEDOUT") {
    pipe_pair p;
    char buf[16];
    std::memset(buf, 0xAA, sizeof buf);
    auto t0 = gorun::clock::now();
    int r = co_await read_once(p.r, buf, sizeof buf, t0 + 20ms);
    CHECK(r == -ETIMEDOUT);
    CHECK(gorun::clock::now() - t0 >= 20ms);
    co_await check_untouched_and_pipe_intact(p, buf, sizeof buf);
}

GORUN_TEST_CASE("an op that completes before its deadline leaves no timer behind") {
    pipe_pair p;
    REQUIRE(::write(p.w, "abc", 3) == 3);
    char buf[8];
    auto before = gorun::metrics().timers_pending;
    int r = co_await read_once(p.r, buf, sizeof buf, gorun::clock::now() + 1h);
    CHECK(r == 3);
    CHECK(gorun::metrics().timers_pending == before);
}

GORUN_TEST_CASE("cancelling an op that already completed changes nothing") {
    pipe_pair p;
    REQUIRE(::write(p.w, "abc", 3) == 3);
    char buf[8];
    std::stop_source src;
    int r = co_await read_once(p.r, buf, sizeof buf, src.get_token());
    src.request_stop();
    CHECK(r == 3);
    CHECK(gorun::metrics().io_pending == 0);
}

GORUN_TEST_CASE("IO-1: cancelling a linked chain cancels every pending link") {
    pipe_pair p;
    char a[8], b[8];
    std::stop_source src;
    auto chain = [&]() -> gorun::task<std::array<gorun::uring::completion, 2>> {
        co_return co_await gorun::uring::linked<2>(
            [&](std::span<io_uring_sqe*, 2> s) {
                io_uring_prep_read(s[0], p.r, a, sizeof a, 0);
                io_uring_prep_read(s[1], p.r, b, sizeof b, 0);
            },
            src.get_token());
    };
    auto h = gorun::spawn(chain);
    co_await ops_pending(1);
    src.request_stop();
    auto res = co_await h;
    CHECK(res[0].res == -ECANCELED);
    CHECK(res[1].res == -ECANCELED);
}

namespace {

// One try of the ENOENT regression below. On the heap, and leaked if the read never ends:
// the kernel (and the task, should the read end later) may still use it.
struct missed_cancel_try {
    pipe_pair p;
    char buf[8];
    std::stop_source src;
    std::atomic<bool> done{false};
    std::array<gorun::uring::completion, 2> res{};
};

gorun::task<> chain_cancelled_at_registration(missed_cancel_try* t) {
    t->res = co_await gorun::uring::linked<2>(
        [t](std::span<io_uring_sqe*, 2> s) {
            io_uring_prep_nop(s[0]);
            io_uring_prep_read(s[1], t->p.r, t->buf, sizeof t->buf, 0);
            t->src.request_stop();  // after await_ready: the callback runs at registration
        },
        t->src.get_token());
    t->done = true;
}

}  // namespace

GORUN_TEST_CASE("IO-1: a cancel that misses an op still in flight (ENOENT) is issued again") {
    // Regression (stress_io_cancel_test hung: a read cancelled, the cancel reported ENOENT, the
    // read waited on its pipe forever). ASYNC_CANCEL cannot see an op that sits in the ring's
    // deferred task work — neither in the poll table nor in io-wq — and answers ENOENT though
    // the op is still in flight. The storm met that with async-poll reads re-queued as task
    // work; a linked chain makes it deterministic: the stop is requested from inside the prep,
    // so the cancel SQEs follow the chain [NOP, read of an empty pipe] in the same enter. The
    // NOP completes inline, the read is only queued behind it, and both cancels find nothing.
    // gorun must notice that the read's cancel missed and ask again.
    for (int i = 0; i < 20; ++i) {
        auto* t = new missed_cancel_try;
        std::memset(t->buf, 0xAA, sizeof t->buf);
        gorun::go(chain_cancelled_at_registration, t);
        // Without the retry the read never ends: bound the wait rather than hang (the shutdown
        // drain cancels the read then; `t` is leaked on purpose).
        auto give_up = gorun::clock::now() + 5s;
        while (!t->done.load() && gorun::clock::now() < give_up)
            co_await gorun::sleep_for(1ms);
        REQUIRE_MESSAGE(t->done.load(), "try " << i << ": the cancelled read never ended");
        CHECK(t->res[0].res == 0);
        CHECK(t->res[1].res == -ECANCELED);
        for (char c : t->buf)
            CHECK(c == '\xAA');
        CHECK(gorun::metrics().io_pending == 0);
        delete t;
    }
}

GORUN_TEST_CASE("IO-1: an op blocking in the kernel's worker pool is cancelled too") {
    // A splice from an empty pipe runs (and blocks) in io-wq; cancelling it interrupts the
    // worker thread, and the op reports ECANCELED once its own completion arrives.
    pipe_pair p;
    int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    REQUIRE(null_fd >= 0);
    std::stop_source src;
    auto splicer = [&]() -> gorun::task<int> {
        co_return co_await gorun::uring::op(
            [&](io_uring_sqe* sqe) { io_uring_prep_splice(sqe, p.r, -1, null_fd, -1, 4096, 0); },
            src.get_token());
    };
    auto h = gorun::spawn(splicer);
    co_await ops_pending(1);
    src.request_stop();
    CHECK(co_await h == -ECANCELED);
    ::close(null_fd);
}

GORUN_TEST_CASE("IO-1: a cancelled open that completed anyway has its fd closed") {
    // Cancel right after submission: the open either loses (ECANCELED; if it had made an fd,
    // gorun closed it) or completed first (the caller owns the fd). The fd count tells.
    int fds_before = open_fds();
    int cancelled = 0, opened = 0;
    for (int i = 0; i < 200; ++i) {
        std::stop_source src;
        auto opener = [&]() -> gorun::task<int> {
            co_return co_await gorun::uring::op_returning_fd(
                [&](io_uring_sqe* sqe) {
                    io_uring_prep_openat(sqe, AT_FDCWD, "/dev/null", O_RDONLY | O_CLOEXEC, 0);
                },
                src.get_token());
        };
        auto h = gorun::spawn(opener);
        if (i % 2)
            co_await gorun::yield();
        src.request_stop();
        int r = co_await h;
        if (r >= 0) {
            ++opened;
            ::close(r);
        } else {
            CHECK(r == -ECANCELED);
            ++cancelled;
        }
    }
    CHECK(cancelled + opened == 200);
    CHECK(open_fds() == fds_before);
    MESSAGE("cancelled " << cancelled << ", completed first " << opened);
}
