// uring::multishot: multishot SQEs read as a stream (MS-1..MS-4 in docs/design/io.md), with
// provided buffers (uring::buffer_ring), cancellation (IO-1), migration between workers and
// shutdown (IO-2).
#include <gorun/uring.hpp>

#include "harness.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <set>
#include <stop_token>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

// Linux 6.4; liburing 2.3's header predates it.
#ifndef IORING_TIMEOUT_MULTISHOT
#define IORING_TIMEOUT_MULTISHOT (1U << 6)
#endif

namespace {

using gorun::test::open_fds;
using gorun::uring::multishot;

// A listening loopback socket and its port.
struct listener {
    int fd = -1;
    std::uint16_t port = 0;
    listener() {
        fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        REQUIRE(fd >= 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        REQUIRE(::listen(fd, 1024) == 0);
        socklen_t len = sizeof a;
        REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
        port = ntohs(a.sin_port);
    }
    ~listener() { ::close(fd); }
};

// A blocking connect to loopback: it completes against the backlog, nobody need accept.
// Returns the client fd; *local_port gets its port (which the accepted socket's peer has).
int connect_client(std::uint16_t port, std::uint16_t* local_port = nullptr) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    if (local_port) {
        socklen_t len = sizeof a;
        REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
        *local_port = ntohs(a.sin_port);
    }
    return fd;
}

std::uint16_t peer_port(int fd) {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    REQUIRE(::getpeername(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    return ntohs(a.sin_port);
}

auto accept_prep(int listen_fd) {
    return [listen_fd](io_uring_sqe* sqe) {
        io_uring_prep_multishot_accept(sqe, listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    };
}

gorun::task<> nop() {
    (void)co_await gorun::uring::op([](io_uring_sqe* sqe) { io_uring_prep_nop(sqe); });
}

// Moves the task towards worker `k`: on_every_ring resumes the task from the worker whose call
// ran last, and worker k's call waits for the others so that it is the last. The task lands in
// worker k's `next` slot (release) or its local queue (debug builds shuffle), so it runs there
// unless another worker steals it first — "usually on k", which is all a test may rely on.
gorun::task<> move_towards(unsigned k) {
    std::atomic<unsigned> others{0};
    unsigned n = gorun::test::workers();
    (void)co_await gorun::uring::on_every_ring([&](io_uring*, unsigned i) {
        if (i != k) {
            others.fetch_add(1);
            return 0;
        }
        while (others.load() != n - 1)
            std::this_thread::yield();
        return 0;
    });
}

}  // namespace

GORUN_TEST_CASE("MS-1: a multishot accept stream yields every queued connection exactly once") {
    int base = open_fds();
    listener l;
    constexpr int n = 64;
    std::vector<int> clients;
    std::set<std::uint16_t> client_ports;
    for (int i = 0; i < n; ++i) {
        std::uint16_t p = 0;
        clients.push_back(connect_client(l.port, &p));
        client_ports.insert(p);
    }
    {
        multishot accepts(gorun::uring::fd_results, accept_prep(l.fd));
        // The accept SQE goes to the kernel with this NOP's flush; the kernel accepts the queued
        // connections while the task is not reading: they pile up in the stream (past its
        // 16 inline entries: the queue grows, MS-1).
        co_await nop();
        // (No INFO in coroutine bodies: doctest's context scopes are a thread-local stack, which a
        // scope held across a suspension corrupts.)
        auto buffered = accepts.buffered();
        CHECK_MESSAGE(
            buffered > gorun::detail::io_stream::inline_capacity,
            "buffered after one flush: " << buffered);
        std::set<std::uint16_t> seen;
        std::vector<int> fds;
        for (int i = 0; i < n; ++i) {
            auto c = co_await accepts.next();
            REQUIRE(c);
            REQUIRE(c->res >= 0);
            CHECK((c->flags & IORING_CQE_F_MORE) != 0);
            fds.push_back(c->res);
            seen.insert(peer_port(c->res));
        }
        CHECK(seen == client_ports);  // each connection once: none lost, none twice
        CHECK(accepts.buffered() == 0);
        // One more connection while a reader waits: the hand-off wakes it.
        std::uint16_t p = 0;
        clients.push_back(connect_client(l.port, &p));
        auto c = co_await accepts.next();
        REQUIRE(c);
        REQUIRE(c->res >= 0);
        CHECK(peer_port(c->res) == p);
        fds.push_back(c->res);
        co_await accepts.close();
        for (int fd : fds)
            ::close(fd);
    }
    for (int fd : clients)
        ::close(fd);
    CHECK(open_fds() == base + 1);  // + the listener
}

GORUN_TEST_CASE("an fd stream's close() closes the connections it accepted but never yielded") {
    int base = open_fds();
    {
        listener l;
        std::vector<int> clients;
        for (int i = 0; i < 20; ++i)
            clients.push_back(connect_client(l.port));
        {
            multishot accepts(gorun::uring::fd_results, accept_prep(l.fd));
            auto first = co_await accepts.next();
            REQUIRE(first);
            REQUIRE(first->res >= 0);
            ::close(first->res);
            co_await accepts.close();  // the other 19 (queued or still coming) are closed
            CHECK(accepts.buffered() == 0);
        }
        // The stream is gone; every accepted socket was closed, so each client sees EOF.
        for (int fd : clients) {
            char b;
            CHECK(::recv(fd, &b, 1, 0) == 0);
            ::close(fd);
        }
    }
    CHECK(open_fds() == base);
}

GORUN_TEST_CASE("a multishot timeout yields each expiration, the last without F_MORE, then ends") {
    __kernel_timespec ts{0, 1'000'000};
    multishot ticks(
        [&](io_uring_sqe* sqe) { io_uring_prep_timeout(sqe, &ts, 5, IORING_TIMEOUT_MULTISHOT); });
    int got = 0;
    unsigned last_flags = IORING_CQE_F_MORE;
    while (auto c = co_await ticks.next()) {
        if (c->res == -EINVAL && got == 0) {
            MESSAGE("this kernel has no multishot timeouts (Linux 6.4+)");
            co_return;
        }
        CHECK(c->res == -ETIME);
        ++got;
        last_flags = c->flags;
    }
    CHECK(got == 5);
    CHECK((last_flags & IORING_CQE_F_MORE) == 0);
    CHECK(!(co_await ticks.next()));  // nullopt forever
}

GORUN_TEST_CASE("a multishot poll reports each readiness of an eventfd; cancel() ends it with the "
                "final completion") {
    int base = open_fds();
    int efd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    REQUIRE(efd >= 0);
    {
        multishot ready([&](io_uring_sqe* sqe) { io_uring_prep_poll_multishot(sqe, efd, POLLIN); });
        for (int i = 0; i < 3; ++i) {
            REQUIRE(::eventfd_write(efd, 1) == 0);  // readable: one wake-up, one completion
            auto c = co_await ready.next();
            REQUIRE(c);
            CHECK((c->res & POLLIN) != 0);
            CHECK((c->flags & IORING_CQE_F_MORE) != 0);  // still armed
            eventfd_t v = 0;
            REQUIRE(::eventfd_read(efd, &v) == 0);  // not readable again until the next write
            CHECK(v == 1);
        }
        CHECK(ready.buffered() == 0);
        ready.cancel();
        int more = 0;
        int end_res = 0;
        unsigned end_flags = IORING_CQE_F_MORE;
        while (auto c = co_await ready.next()) {
            if (c->flags & IORING_CQE_F_MORE) {
                ++more;  // a readiness nobody caused: there must be none
            } else {
                end_res = c->res;
                end_flags = c->flags;
            }
        }
        CHECK(more == 0);
        CHECK(end_res == -ECANCELED);
        CHECK((end_flags & IORING_CQE_F_MORE) == 0);
        CHECK(!(co_await ready.next()));  // nullopt forever
    }
    ::close(efd);
    CHECK(open_fds() == base);
}

GORUN_TEST_CASE("IO-1: a stop request ends a multishot stream with ECANCELED after what came") {
    int base = open_fds();
    {
        listener l;
        std::stop_source stop;
        std::vector<int> clients;
        for (int i = 0; i < 3; ++i)
            clients.push_back(connect_client(l.port));
        multishot accepts(gorun::uring::fd_results, accept_prep(l.fd), {stop.get_token()});
        for (int i = 0; i < 3; ++i) {
            auto c = co_await accepts.next();
            REQUIRE(c);
            REQUIRE(c->res >= 0);
            ::close(c->res);
        }
        // Stopped from another task (possibly on another worker: the cancel goes through the
        // home worker's list) while this one waits in next().
        gorun::wait_group wg;
        wg.go(
            [](std::stop_source s) -> gorun::task<> {
                co_await gorun::yield();
                s.request_stop();
            },
            stop);
        auto c = co_await accepts.next();
        REQUIRE(c);
        CHECK(c->res == -ECANCELED);
        CHECK((c->flags & IORING_CQE_F_MORE) == 0);
        CHECK(!(co_await accepts.next()));
        co_await wg.wait();
        for (int fd : clients)
            ::close(fd);
        CHECK(gorun::metrics().io_pending == 0);
    }
    CHECK(open_fds() == base);
}

GORUN_TEST_CASE("IO-1: a deadline ends a multishot stream with ETIMEDOUT") {
    int base = open_fds();
    {
        listener l;
        int client = connect_client(l.port);
        multishot accepts(
            gorun::uring::fd_results, accept_prep(l.fd), {gorun::clock::now() + 30ms});
        auto c = co_await accepts.next();
        REQUIRE(c);
        REQUIRE(c->res >= 0);
        ::close(c->res);
        auto end = co_await accepts.next();  // nobody else connects: the deadline ends it
        REQUIRE(end);
        CHECK(end->res == -ETIMEDOUT);
        CHECK(!(co_await accepts.next()));
        ::close(client);
    }
    CHECK(open_fds() == base);
}

GORUN_TEST_CASE("cancel() ends a stream; a stream already stopped submits nothing") {
    listener l;
    multishot accepts(gorun::uring::fd_results, accept_prep(l.fd));
    accepts.cancel();
    auto c = co_await accepts.next();
    REQUIRE(c);
    CHECK(c->res == -ECANCELED);
    CHECK(!(co_await accepts.next()));

    std::stop_source stop;
    stop.request_stop();
    auto ops = gorun::metrics().io_ops;
    multishot never(accept_prep(l.fd), {stop.get_token()});
    auto e = co_await never.next();
    REQUIRE(e);
    CHECK(e->res == -ECANCELED);
    CHECK(!(co_await never.next()));
    CHECK(gorun::metrics().io_ops == ops);
}

namespace {

// Reads the byte stream on `fd` with multishot recv from provided buffers until EOF, re-arming
// when the kernel runs out of buffers (-ENOBUFS ends a multishot recv). Recycles every buffer.
gorun::task<std::vector<unsigned char>>
recv_all(int fd, gorun::uring::buffer_ring& br, gorun::io_control ctl, int* end_res) {
    std::vector<unsigned char> got;
    for (;;) {
        multishot rx(
            [&](io_uring_sqe* sqe) {
                io_uring_prep_recv_multishot(sqe, fd, nullptr, 0, 0);
                sqe->flags |= IOSQE_BUFFER_SELECT;
                sqe->buf_group = br.group();
            },
            ctl);
        int last = 1;
        while (auto c = co_await rx.next()) {
            if (c->flags & IORING_CQE_F_BUFFER) {
                auto d = br.data(rx, *c);
                got.insert(
                    got.end(),
                    reinterpret_cast<unsigned char*>(d.data()),
                    reinterpret_cast<unsigned char*>(d.data()) + d.size());
                br.recycle(rx, *c);
            }
            if (!(c->flags & IORING_CQE_F_MORE))
                last = c->res;
            // Let the task migrate between completions (with several workers).
            co_await gorun::yield();
        }
        if (last == -ENOBUFS)
            continue;  // the ring ran dry while we were behind: re-arm
        *end_res = last;
        co_return got;
    }
}

std::vector<unsigned char> pattern(std::size_t n) {
    std::vector<unsigned char> v(n);
    std::uint32_t x = 2463534242u;
    for (auto& b : v) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        b = static_cast<unsigned char>(x);
    }
    return v;
}

}  // namespace

GORUN_TEST_CASE("multishot recv with a provided buffer ring reads a byte stream exactly") {
    int base = open_fds();
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    auto br = (co_await gorun::uring::buffer_ring::create(3, 8, 1024)).value();
    CHECK(br.is_registered());
    auto data = pattern(256 * 1024);
    // A writer thread, so the reader falls behind and the ring runs dry now and then.
    std::thread writer([&] {
        std::size_t off = 0;
        while (off < data.size()) {
            auto n = ::send(
                sv[1],
                data.data() + off,
                std::min<std::size_t>(3000, data.size() - off),
                MSG_NOSIGNAL);
            REQUIRE(n > 0);
            off += static_cast<std::size_t>(n);
        }
        ::shutdown(sv[1], SHUT_WR);
    });
    int end_res = 1;
    auto got = co_await recv_all(sv[0], br, {}, &end_res);
    writer.join();
    CHECK(end_res == 0);  // EOF ends the stream
    CHECK(got.size() == data.size());
    CHECK(got == data);
    REQUIRE(co_await br.close());
    CHECK(!br.is_registered());
    ::close(sv[0]);
    ::close(sv[1]);
    CHECK(open_fds() == base);
}

GORUN_TEST_CASE("IO-1: stopping a multishot recv mid-stream ends it; its buffers come back") {
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    auto br = (co_await gorun::uring::buffer_ring::create(4, 4, 256)).value();
    std::stop_source stop;
    REQUIRE(::send(sv[1], "hello", 5, 0) == 5);
    {
        multishot rx(
            [&](io_uring_sqe* sqe) {
                io_uring_prep_recv_multishot(sqe, sv[0], nullptr, 0, 0);
                sqe->flags |= IOSQE_BUFFER_SELECT;
                sqe->buf_group = br.group();
            },
            {stop.get_token()});
        auto c = co_await rx.next();
        REQUIRE(c);
        REQUIRE(c->res == 5);
        CHECK(std::memcmp(br.data(rx, *c).data(), "hello", 5) == 0);
        br.recycle(rx, *c);
        stop.request_stop();
        auto end = co_await rx.next();
        REQUIRE(end);
        CHECK(end->res == -ECANCELED);
        br.recycle(rx, *end);  // no buffer: nothing
        CHECK(!(co_await rx.next()));
    }
    // Every buffer is back: four more sends of 256 bytes each fill all four buffers of the
    // ring without ENOBUFS (on whichever worker the new stream lands).
    std::vector<unsigned char> more(1024, 0x5a);
    REQUIRE(::send(sv[1], more.data(), more.size(), 0) == 1024);
    ::shutdown(sv[1], SHUT_WR);
    int end_res = 1;
    auto got = co_await recv_all(sv[0], br, {}, &end_res);
    CHECK(got == more);
    CHECK(end_res == 0);
    REQUIRE(co_await br.close());
    ::close(sv[0]);
    ::close(sv[1]);
}

namespace {

auto recv_prep(int fd, const gorun::uring::buffer_ring& br) {
    return [fd, &br](io_uring_sqe* sqe) {
        io_uring_prep_recv_multishot(sqe, fd, nullptr, 0, 0);
        sqe->flags |= IOSQE_BUFFER_SELECT;
        sqe->buf_group = br.group();
    };
}

}  // namespace

// One worker: the buffers are per ring, so both streams must share theirs.
GORUN_TEST_CASE_WITH(
    "close() on a recv stream keeps the completions that hold provided buffers, to be recycled",
    {1u}) {
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    auto br = (co_await gorun::uring::buffer_ring::create(5, 4, 256)).value();
    std::vector<unsigned char> d(1024, 0x11);
    REQUIRE(::send(sv[1], d.data(), d.size(), 0) == 1024);
    {
        multishot rx(recv_prep(sv[0], br));
        // The kernel fills all four buffers (each flush runs the recv) while nobody reads.
        for (int i = 0; i < 1000 && rx.buffered() < 4; ++i)
            co_await nop();
        REQUIRE(rx.buffered() == 4);
        co_await rx.close();
        // The four completions still own their buffers: next() yields them after close(), so
        // that they can be given back; the rest of the queue (the final completion) is dropped.
        int back = 0;
        while (auto c = co_await rx.next()) {
            CHECK((c->flags & IORING_CQE_F_BUFFER) != 0);
            br.recycle(rx, *c);
            ++back;
        }
        CHECK(back == 4);
    }
    // All four buffers are back in the ring: a new recv gets data, not -ENOBUFS.
    REQUIRE(::send(sv[1], "x", 1, 0) == 1);
    {
        multishot rx(recv_prep(sv[0], br));
        auto c = co_await rx.next();
        REQUIRE(c);
        CHECK(c->res == 1);
        br.recycle(rx, *c);
        co_await rx.close();
        while (auto e = co_await rx.next())
            br.recycle(rx, *e);
    }
    REQUIRE(co_await br.close());
    ::close(sv[0]);
    ::close(sv[1]);
}

GORUN_TEST_CASE_WITH(
    "buffer_ring::close_stream closes a recv stream and gives back the buffers it kept", {1u}) {
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    auto br = (co_await gorun::uring::buffer_ring::create(6, 4, 256)).value();
    std::vector<unsigned char> d(1024, 0x22);
    for (int round = 0; round < 3; ++round) {
        // Every round fills all four buffers and closes the stream without reading: a round
        // after one that lost its buffers would find the ring empty (-ENOBUFS at once).
        REQUIRE(::send(sv[1], d.data(), d.size(), 0) == 1024);
        multishot rx(recv_prep(sv[0], br));
        for (int i = 0; i < 1000 && rx.buffered() < 4; ++i)
            co_await nop();
        REQUIRE(rx.buffered() == 4);
        co_await br.close_stream(rx);
        CHECK(rx.buffered() == 0);
        CHECK(!co_await rx.next());  // ended
    }
    REQUIRE(co_await br.close());
    ::close(sv[0]);
    ::close(sv[1]);
}

GORUN_TEST_CASE_WITH(
    "MS-2: a stream read by a task that migrates between workers loses nothing", {4u}) {
    int base = open_fds();
    {
        listener l;
        constexpr int n = 200;
        std::vector<int> clients(n);
        std::thread connector([&] {
            for (int i = 0; i < n; ++i)
                clients[i] = connect_client(l.port);
        });
        multishot accepts(gorun::uring::fd_results, accept_prep(l.fd));
        io_uring* home = gorun::uring::current_ring();
        unsigned home_index = accepts.ring_index();
        int away = 0;
        std::vector<int> fds;
        std::vector<int> extra_clients;
        // Until all n are read, and at least one read was made away from the home worker
        // (where a hop lands is the scheduler's choice: keep hopping, bounded).
        for (int hops = 0; hops < 20000 && (static_cast<int>(fds.size()) < n || away == 0);
             ++hops) {
            // A hop to another worker, round robin (home included, so reads are made both ways).
            co_await move_towards(static_cast<unsigned>(hops) % gorun::test::workers());
            bool is_away = gorun::uring::current_ring() != home;
            if (static_cast<int>(fds.size()) >= n) {
                if (!is_away)
                    continue;
                extra_clients.push_back(connect_client(l.port));  // one more to read from here
            }
            if (is_away)
                ++away;
            auto c = co_await accepts.next();
            REQUIRE(c);
            REQUIRE(c->res >= 0);
            fds.push_back(c->res);
        }
        for (int fd : extra_clients)
            ::close(fd);
        connector.join();
        CHECK(accepts.ring_index() == home_index);  // the op stays on its ring
        CHECK_MESSAGE(away > 0, "reads made away from the home worker: " << away);
        CHECK(static_cast<int>(fds.size()) >= n);
        std::sort(fds.begin(), fds.end());
        CHECK(std::adjacent_find(fds.begin(), fds.end()) == fds.end());
        co_await accepts.close();
        for (int fd : fds)
            ::close(fd);
        for (int fd : clients)
            ::close(fd);
    }
    CHECK(open_fds() == base);
}

GORUN_TEST_CASE("IO-1: cancel() from a foreign thread racing the stream's own end: one end, "
                "nothing after it") {
    for (int round = 0; round < 200; ++round) {
        // 20 expirations 20 µs apart; a foreign thread cancels once the reader has seen
        // `round % 21` of them, so the cancel lands before, during or after the last one.
        __kernel_timespec ts{0, 20'000};
        std::atomic<int> seen{0};
        int cancel_after = round % 21;
        multishot ticks([&](io_uring_sqe* sqe) {
            io_uring_prep_timeout(sqe, &ts, 20, IORING_TIMEOUT_MULTISHOT);
        });
        std::thread canceller([&] {
            while (seen.load(std::memory_order_acquire) < cancel_after)
                std::this_thread::yield();
            ticks.cancel();
        });
        int got = 0;
        int ends = 0;
        int end_res = 0;
        while (auto c = co_await ticks.next()) {
            if (c->res == -EINVAL && got == 0 && ends == 0)
                break;  // no multishot timeouts (Linux 6.4+): nothing to race
            if (c->flags & IORING_CQE_F_MORE) {
                CHECK(ends == 0);  // nothing after the end
                CHECK(c->res == -ETIME);
                ++got;
            } else {
                ++ends;
                end_res = c->res;
            }
            seen.store(got + ends, std::memory_order_release);
            co_await gorun::yield();  // migrate between reads (several workers)
        }
        seen.store(1000, std::memory_order_release);  // the stream may have ended before
        canceller.join();
        if (got == 0 && ends == 0)
            co_return;
        CHECK(ends == 1);
        // The last expiration (count reached) or the cancel, whichever the kernel saw first.
        CHECK((end_res == -ETIME || end_res == -ECANCELED));
        CHECK(got + (end_res == -ETIME ? 1 : 0) <= 20);
        CHECK(!(co_await ticks.next()));
        CHECK(gorun::metrics().io_pending == 0);
    }
}

namespace {

std::atomic<int> frames_destroyed{0};
struct count_destroy {
    ~count_destroy() { frames_destroyed.fetch_add(1); }
};

gorun::task<> armed_forever(int listen_fd, gorun::channel<int> armed) {
    count_destroy c;
    multishot accepts(gorun::uring::fd_results, accept_prep(listen_fd));
    co_await nop();  // submitted: the kernel accepts into the stream from here on
    co_await armed.send(1);
    // Never read: the connections sit in the stream's queue or still in the kernel when the
    // runtime ends.
    gorun::channel<int> never;
    (void)co_await never.recv();
    FAIL("a task waiting forever was resumed");
}

gorun::task<> main_with_armed_streams(int listen_fd) {
    gorun::channel<int> armed(4);
    for (int i = 0; i < 4; ++i)
        gorun::go(armed_forever, listen_fd, armed);
    for (int i = 0; i < 4; ++i)
        (void)co_await armed.recv();
    co_await nop();  // one more flush: the accepts have run in the kernel
}

}  // namespace

TEST_CASE("IO-2: shutdown with armed multishot streams cancels and reaps them; no fd leaks") {
    gorun::test::watchdog wd;
    int base = open_fds();
    {
        listener l;
        for (unsigned workers : {1u, 4u}) {
            std::vector<int> clients;
            for (int i = 0; i < 10; ++i)
                clients.push_back(connect_client(l.port));
            frames_destroyed = 0;
            gorun::runtime_options opts;
            opts.workers = workers;
            gorun::run(main_with_armed_streams(l.fd), opts);
            CHECK(frames_destroyed == 4);
            // Every connection the streams accepted was closed by gorun: the clients see EOF.
            for (int fd : clients) {
                char b;
                CHECK(::recv(fd, &b, 1, MSG_DONTWAIT) != 1);
                ::close(fd);
            }
        }
    }
    CHECK(open_fds() == base);
}

namespace {

gorun::task<int> drop_armed_stream() {
    {
        __kernel_timespec ts{3600, 0};
        multishot ticks([&](io_uring_sqe* sqe) {
            io_uring_prep_timeout(sqe, &ts, 0, IORING_TIMEOUT_MULTISHOT);
        });
        co_await nop();  // submitted: the kernel holds the stream's address
    }                    // destroyed while armed
    co_return 0;
}

}  // namespace

TEST_CASE("MS-4: destroying a stream that is still armed is a fatal error, not a silent UAF") {
    auto r = gorun::test::run_in_child([] { return gorun::run(drop_armed_stream()); });
    INFO(r.err);
    CHECK(WIFSIGNALED(r.status));
    CHECK(r.err.find("destroyed while still armed") != std::string::npos);
}
