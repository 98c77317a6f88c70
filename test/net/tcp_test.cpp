// net::tcp_listener and net::tcp_stream over loopback: echo, end of stream, refused connects,
// deadlines, cancellation, peer resets without SIGPIPE, accept under EMFILE (IO-5), and a
// multishot accept stream (uring::multishot) on a listener's fd.
#include <gorun/net/tcp_listener.hpp>
#include <gorun/net/tcp_stream.hpp>
#include <gorun/uring.hpp>

#include "harness.hpp"
#include "net_support.hpp"

#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <stop_token>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using gorun::net::address;
using gorun::net::tcp_listener;
using gorun::net::tcp_stream;
using gorun::test::bytes;
using gorun::test::echo_once;

namespace {

tcp_listener listen_loopback() {
    return tcp_listener::listen(address::loopback_v4(0)).value();
}

}  // namespace

GORUN_TEST_CASE("a connection echoes bytes both ways; addresses match; end of stream reads 0") {
    auto l = listen_loopback();
    auto at = l.local_address().value();
    CHECK(at.is_loopback());
    CHECK(at.port() != 0);
    gorun::wait_group wg;
    wg.go(echo_once<tcp_listener>, &l);
    auto c = co_await tcp_stream::connect(at);
    REQUIRE(c);
    CHECK(c->peer_address().value() == at);
    CHECK(c->local_address().value().is_loopback());
    co_await gorun::test::echo_check(&*c);
    co_await wg.wait();
}

GORUN_TEST_CASE("read_exact reports a stream that ends early; what came is kept") {
    auto l = listen_loopback();
    auto at = l.local_address().value();
    gorun::wait_group wg;
    wg.go(
        [](const tcp_listener* lp) -> gorun::task<> {
            auto s = co_await lp->accept();
            REQUIRE(s);
            REQUIRE(co_await s->write_all(std::string_view("abc")));
            (void)co_await s->close();
        },
        &l);
    auto c = co_await tcp_stream::connect(at);
    REQUIRE(c);
    std::array<char, 8> buf{};
    auto r = co_await c->read_exact(std::as_writable_bytes(std::span(buf)));
    CHECK_FALSE(r);
    CHECK(r.error() == std::errc::connection_reset);
    CHECK(std::string_view(buf.data(), 3) == "abc");
    co_await wg.wait();
}

GORUN_TEST_CASE("connecting to a closed port is refused, and leaks no descriptor") {
    int before = gorun::test::open_fds();
    address at;
    {
        auto l = listen_loopback();
        at = l.local_address().value();
    }  // closed: nobody listens there now
    auto c = co_await tcp_stream::connect(at);
    REQUIRE_FALSE(c);
    CHECK(c.error() == std::errc::connection_refused);
    CHECK(gorun::test::open_fds() == before);
    auto bad = co_await tcp_stream::connect(address{});
    CHECK(bad.error() == std::errc::invalid_argument);
}

GORUN_TEST_CASE("a read deadline times the read out; the connection still works afterwards") {
    auto l = listen_loopback();
    auto at = l.local_address().value();
    gorun::wait_group wg;
    wg.go(echo_once<tcp_listener>, &l);
    auto c = co_await tcp_stream::connect(at);
    REQUIRE(c);
    std::array<std::byte, 8> buf;
    c->set_read_deadline(gorun::clock::now() + 20ms);
    auto start = gorun::clock::now();
    auto r = co_await c->read(buf);
    REQUIRE_FALSE(r);
    CHECK(r.error() == std::errc::timed_out);
    CHECK(gorun::clock::now() >= start + 20ms);  // not before the deadline
    c->set_read_deadline(gorun::clock::time_point::max());
    REQUIRE(co_await c->write_all(std::string_view("ping")));
    auto n = co_await c->read_exact(std::span(buf.data(), 4));
    CHECK(n);
    // A per-call deadline in the past fails at once, before any op.
    auto late = co_await c->read(buf, gorun::clock::now() - 1ms);
    CHECK(late.error() == std::errc::timed_out);
    REQUIRE(co_await c->shutdown());
    co_await wg.wait();
}

GORUN_TEST_CASE("a stop token cancels a pending accept and a pending read") {
    int before = gorun::test::open_fds();
    {
        auto l = listen_loopback();
        CHECK(co_await gorun::test::accept_stopped(&l) == std::errc::operation_canceled);

        // A read cancelled from another task.
        gorun::wait_group wg;
        wg.go(echo_once<tcp_listener>, &l);
        auto c = co_await tcp_stream::connect(l.local_address().value());
        REQUIRE(c);
        std::stop_source rs;
        gorun::go(gorun::test::stop_after_yield, &rs);
        std::array<std::byte, 8> buf;
        auto r = co_await c->read(buf, rs.get_token());
        CHECK(r.error() == std::errc::operation_canceled);
        REQUIRE(co_await c->shutdown());
        co_await wg.wait();
        l.close();  // IO-8: the socket is closed when the acceptor has ended, which accept() awaits
        CHECK((co_await l.accept()).error() == std::errc::bad_file_descriptor);
    }
    CHECK(gorun::test::open_fds() == before);
}

GORUN_TEST_CASE("closing the listener wakes a pending accept with an error") {
    auto l = listen_loopback();
    CHECK(co_await gorun::test::accept_fails_on_close(&l));
}

GORUN_TEST_CASE("a peer reset is an error on that connection only, never a SIGPIPE") {
    auto l = listen_loopback();
    auto at = l.local_address().value();
    gorun::wait_group wg;
    wg.go(
        [](const tcp_listener* lp) -> gorun::task<> {
            auto s = co_await lp->accept();
            REQUIRE(s);
            // Close with an RST instead of a FIN.
            linger lg{1, 0};
            ::setsockopt(s->fd(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        },
        &l);
    auto c = co_await tcp_stream::connect(at);
    REQUIRE(c);
    co_await wg.wait();  // the peer is gone (reset)
    std::string chunk(64 * 1024, 'z');
    std::error_code err;
    for (int i = 0; i < 100 && !err; ++i) {
        auto w = co_await c->write_all(bytes(chunk));
        if (!w)
            err = w.error();
    }
    CHECK((err == std::errc::broken_pipe || err == std::errc::connection_reset));
    // The listener is unaffected.
    wg.go(echo_once<tcp_listener>, &l);
    auto d = co_await tcp_stream::connect(at);
    REQUIRE(d);
    REQUIRE(co_await d->write_all(std::string_view("ok")));
    std::array<std::byte, 2> buf;
    CHECK(co_await d->read_exact(buf));
    REQUIRE(co_await d->shutdown());
    co_await wg.wait();
}

namespace {

// In a forked child: connect (the connection waits in the backlog), use up every fd, and check
// that a pending accept neither fails nor spins, then gets the connection once fds are back.
gorun::task<int> accept_under_emfile() {
    auto l = listen_loopback();
    auto at = l.local_address().value();
    auto c = co_await tcp_stream::connect(at);
    if (!c)
        co_return 3;
    rlimit lim{};
    ::getrlimit(RLIMIT_NOFILE, &lim);
    lim.rlim_cur = static_cast<rlim_t>(gorun::test::open_fds() + 8);
    ::setrlimit(RLIMIT_NOFILE, &lim);
    std::vector<int> hog;
    for (int fd; (fd = ::dup(0)) >= 0;)
        hog.push_back(fd);
    bool accepted = false;
    gorun::wait_group wg;
    wg.go(
        [](const tcp_listener* lp, bool* out) -> gorun::task<> {
            auto s = co_await lp->accept();
            *out = static_cast<bool>(s);
        },
        &l,
        &accepted);
    auto ops_before = gorun::metrics().io_ops;
    co_await gorun::sleep_for(200ms);  // EMFILE all along: accept must be backing off
    auto ops = gorun::metrics().io_ops - ops_before;
    bool still_waiting = !accepted;
    for (int fd : hog)
        ::close(fd);
    co_await wg.wait();
    // 200 ms of backoff from 5 ms is about six tries, each an accept and a timeout; a busy
    // loop would make thousands.
    std::fprintf(
        stderr, "ops during EMFILE: %llu, accepted %d\n", (unsigned long long)ops, accepted);
    co_return still_waiting&& accepted&& ops < 100 ? 0 : 2;
}

}  // namespace

TEST_CASE("IO-5: accept under EMFILE backs off without spinning and loses no connection") {
    auto r = gorun::test::run_in_child([] { return gorun::run(accept_under_emfile()); });
    INFO(r.err);
    CHECK(r.status == 0);
}

GORUN_TEST_CASE("IO-7: a slowloris client trickling its request is cut off by the read deadline") {
    auto l = listen_loopback();
    auto at = l.local_address().value();
    std::error_code server_err;
    gorun::wait_group wg;
    wg.go(
        [](const tcp_listener* lp, std::error_code* out) -> gorun::task<> {
            auto c = co_await lp->accept();
            REQUIRE(c);
            // The whole request head must arrive within 100 ms.
            c->set_read_deadline(gorun::clock::now() + 100ms);
            std::string head;
            std::array<char, 256> buf;
            while (head.find("\r\n\r\n") == std::string::npos) {
                auto n = co_await c->read(buf);
                if (!n) {
                    *out = n.error();
                    co_return;  // closes the connection
                }
                if (*n == 0)
                    co_return;
                head.append(buf.data(), *n);
            }
        },
        &l,
        &server_err);
    auto c = co_await tcp_stream::connect(at);
    REQUIRE(c);
    // One byte every 20 ms, never finishing the head; stop once the server has hung up.
    std::string_view req =
        "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    bool cut_off = false;
    for (std::size_t i = 0; i < req.size() && !cut_off; ++i) {
        if (!co_await c->write_all(req.substr(i, 1)))
            cut_off = true;
        co_await gorun::sleep_for(20ms);
        std::array<std::byte, 1> probe;
        auto r = co_await c->read(probe, gorun::clock::now() + 1ms);
        if (r && *r == 0)
            cut_off = true;  // end of stream: the server closed us
        if (!r && r.error() != std::errc::timed_out)
            cut_off = true;  // reset
    }
    co_await wg.wait();
    CHECK(server_err == std::errc::timed_out);
    CHECK(cut_off);
}

GORUN_TEST_CASE("IO-7: a reader that never reads cannot hold a writer past its write deadline") {
    auto l = listen_loopback();
    auto at = l.local_address().value();
    std::error_code write_err;
    gorun::wait_group wg;
    wg.go(
        [](const tcp_listener* lp, std::error_code* out) -> gorun::task<> {
            auto c = co_await lp->accept();
            REQUIRE(c);
            c->set_write_deadline(gorun::clock::now() + 100ms);
            // 64 MiB from one 1 MiB buffer: far more than the socket buffers take; nothing is
            // buffered in user space beyond the caller's own buffer.
            std::vector<std::byte> chunk(1 << 20, std::byte{'w'});
            for (int i = 0; i < 64; ++i) {
                auto w = co_await c->write_all(chunk);
                if (!w) {
                    *out = w.error();
                    co_return;
                }
            }
        },
        &l,
        &write_err);
    auto c = co_await tcp_stream::connect(at);  // and never read from it
    REQUIRE(c);
    co_await wg.wait();
    CHECK(write_err == std::errc::timed_out);
}

GORUN_TEST_CASE("a multishot accept stream on a listener's fd serves many connections") {
    int base = gorun::test::open_fds();
    {
        auto l = listen_loopback();
        auto at = l.local_address().value();
        constexpr int n = 20;
        std::stop_source stop;
        gorun::wait_group clients;
        for (int i = 0; i < n; ++i)
            clients.go(gorun::test::id_client<tcp_stream, address>, at, i);
        gorun::wait_group served;
        gorun::uring::multishot conns(
            gorun::uring::fd_results,
            [&](io_uring_sqe* sqe) {
                io_uring_prep_multishot_accept(sqe, l.fd(), nullptr, nullptr, SOCK_CLOEXEC);
            },
            {stop.get_token()});
        for (int got = 0; got < n;) {
            auto c = co_await conns.next();
            REQUIRE(c);
            REQUIRE(c->res >= 0);
            REQUIRE((c->flags & IORING_CQE_F_MORE) != 0);
            ++got;
            served.go(gorun::test::echo_id<tcp_stream>, tcp_stream(c->res));
        }
        co_await clients.wait();
        co_await served.wait();
        stop.request_stop();
        auto end = co_await conns.next();
        REQUIRE(end);
        CHECK(end->res == -ECANCELED);
        CHECK(!(co_await conns.next()));
    }
    CHECK(gorun::test::open_fds() == base);
}

GORUN_TEST_CASE("connections queued before any accept() are each taken once, in any number") {
    auto l = listen_loopback();
    co_await gorun::test::accept_queued<tcp_stream>(&l, 20);
}

GORUN_TEST_CASE("closing the listener closes the connections it accepted but nobody took") {
    co_await gorun::test::close_with_buffered_connections<tcp_stream>(listen_loopback);
}

GORUN_TEST_CASE(
    "a listener whose kernel refuses multishot accept (EINVAL) falls back to single accepts") {
    gorun::net::detail::tcp_accept_force_single_shot(true);
    int base = gorun::test::open_fds();
    {
        auto l = listen_loopback();
        gorun::wait_group wg;
        for (int i = 0; i < 3; ++i) {
            wg.go(echo_once<tcp_listener>, &l);
            auto c = co_await tcp_stream::connect(l.local_address().value());
            REQUIRE(c);
            co_await gorun::test::echo_check(&*c);
        }
        co_await wg.wait();
        CHECK(co_await gorun::test::accept_stopped(&l) == std::errc::operation_canceled);
        l.close();
        CHECK((co_await l.accept()).error() == std::errc::bad_file_descriptor);
    }
    co_await gorun::test::close_with_buffered_connections<tcp_stream>(listen_loopback);
    gorun::net::detail::tcp_accept_force_single_shot(false);
    CHECK(gorun::test::open_fds() == base);
}

GORUN_TEST_CASE("many concurrent accept() callers share one armed accept; each gets its own "
                "connection, and a stopped caller loses none") {
    auto l = listen_loopback();
    co_await gorun::test::concurrent_accepts<tcp_stream>(&l);
}

namespace {

// IO-8's test: the hook runs right after the acceptor prepared its accept SQE with the
// listener's number, before the worker flushes it. It closes the listener there, then checks
// that the number still names the listener's socket (the same inode) and that a new socket
// does not get that number — so the SQE, flushed next, cannot act on another file.
struct arm_race {
    static inline std::atomic<tcp_listener*> listener{nullptr};
    static inline ino_t inode = 0;
    static inline std::atomic<bool> still_listeners{false};
    static inline std::atomic<bool> number_not_reused{false};

    static void hook(int sock) {
        tcp_listener* l = listener.exchange(nullptr);
        if (!l)
            return;
        l->close();
        struct stat st {};
        still_listeners = ::fstat(sock, &st) == 0 && st.st_ino == inode;
        int other = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        number_not_reused = other >= 0 && other != sock;
        if (other >= 0)
            ::close(other);
    }
};

}  // namespace

GORUN_TEST_CASE("IO-8: a close() between arming an accept and its submission never lets the "
                "number be reused; the socket is closed when the acceptor ends") {
    int base = gorun::test::open_fds();
    for (bool single : {false, true}) {
        gorun::net::detail::tcp_accept_force_single_shot(single);
        {
            auto l = listen_loopback();
            struct stat st {};
            REQUIRE(::fstat(l.fd(), &st) == 0);
            arm_race::inode = st.st_ino;
            arm_race::still_listeners = false;
            arm_race::number_not_reused = false;
            arm_race::listener = &l;
            gorun::net::detail::listener_on_arm_for_test(&arm_race::hook);
            // Starts the acceptor; its first arm closes the listener. The caller wakes when the
            // task has ended, which gave the number back first.
            auto c = co_await l.accept();
            gorun::net::detail::listener_on_arm_for_test(nullptr);
            REQUIRE(!c);
            CHECK(c.error() == std::errc::bad_file_descriptor);
            CHECK(arm_race::listener.load() == nullptr);
            CHECK(arm_race::still_listeners.load());
            CHECK(arm_race::number_not_reused.load());
            CHECK(gorun::test::open_fds() == base);
        }
        CHECK(gorun::test::open_fds() == base);
    }
    gorun::net::detail::tcp_accept_force_single_shot(false);
}

GORUN_TEST_CASE("IO-8: closing a listener whose acceptor never ran closes its socket at once") {
    int base = gorun::test::open_fds();
    auto l = listen_loopback();
    CHECK(gorun::test::open_fds() == base + 1);
    l.close();
    CHECK(gorun::test::open_fds() == base);
    CHECK((co_await l.accept()).error() == std::errc::bad_file_descriptor);
}

namespace {

// A blocking client of `l` that has sent one byte (the connect completes against the backlog,
// nobody need be accepting); -1 on failure.
int connect_and_send(const tcp_listener& l) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(l.local_address().value().port());
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    char x = 'x';
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0
        || ::write(fd, &x, 1) != 1) {
        if (fd >= 0)
            ::close(fd);
        return -1;
    }
    return fd;
}

// Accepts one connection within 5 s and reads its byte: 0, else what failed.
gorun::task<int> accept_one(const tcp_listener* l) {
    auto deadline = gorun::clock::now() + 5s;
    auto s = co_await l->accept(deadline);
    if (!s)
        co_return s.error() == std::errc::timed_out ? 1 : 2;
    std::array<std::byte, 1> b{};
    if (!co_await s->read_exact(b, deadline) || b[0] != std::byte{'x'})
        co_return 3;
    co_return 0;
}

// Lets the other tasks of a one-worker runtime run until they park (the acceptor task and
// accept() callers). Not a synchronisation: the checks after the runtime ends hold however
// far they got; this only makes the scenario the test names the usual one.
gorun::task<> let_others_park() {
    for (int i = 0; i < 100; ++i)
        co_await gorun::yield();
}

// Ends its runtime with an accept() caller parked on the listener's channel.
gorun::task<int> leave_a_caller_parked(const tcp_listener* l) {
    gorun::go([](const tcp_listener* l) -> gorun::task<> { (void)co_await l->accept(); }, l);
    co_await let_others_park();
    co_return 0;
}

// Ends its runtime with the acceptor task waiting to send into its full channel: more
// connections are queued than the channel holds (64).
gorun::task<int> leave_the_acceptor_blocked(const tcp_listener* l) {
    int rc = co_await accept_one(l);
    co_await let_others_park();
    co_return rc;
}

}  // namespace

TEST_CASE("a listener outlives a runtime: the next runtime's accept() is served") {
    int base = gorun::test::open_fds();
    {
        auto l = listen_loopback();
        std::vector<int> clients;
        gorun::runtime_options one;
        one.workers = 1;
        gorun::runtime_options two;
        two.workers = 2;
        // Each runtime ends with the acceptor task parked (on its armed accept, or on a full
        // channel) and its frame destroyed at shutdown (IO-2), maybe with callers parked on
        // the channel; the next runtime's accept() starts a new acceptor and is served.
        CHECK(gorun::run(leave_a_caller_parked(&l), one) == 0);
        clients.push_back(connect_and_send(l));
        CHECK(gorun::run(accept_one(&l), two) == 0);
        for (int i = 0; i < 70; ++i)
            clients.push_back(connect_and_send(l));
        CHECK(gorun::run(leave_the_acceptor_blocked(&l), one) == 0);
        clients.push_back(connect_and_send(l));
        CHECK(gorun::run(accept_one(&l), two) == 0);
        CHECK(gorun::run(leave_a_caller_parked(&l), two) == 0);
        clients.push_back(connect_and_send(l));
        CHECK(gorun::run(accept_one(&l), one) == 0);
        for (int fd : clients)
            CHECK(fd >= 0);
        l.close();
        for (int fd : clients)
            ::close(fd);
    }
    CHECK(gorun::test::open_fds() == base);
}

GORUN_TEST_CASE("closing or destroying a TCP stream ends its pending read and write") {
    auto l = listen_loopback();
    auto at = l.local_address().value();
    for (int how = 0; how < 2; ++how) {
        auto c = (co_await tcp_stream::connect(at)).value();
        auto s = (co_await l.accept()).value();
        if (how == 0) {
            co_await gorun::test::end_wakes_pending_calls<tcp_stream>(
                &c, &s, [](tcp_stream* x) -> gorun::task<> { (void)co_await x->close(); });
        } else {
            co_await gorun::test::end_wakes_pending_calls<tcp_stream>(
                &c, &s, [](tcp_stream* x) -> gorun::task<> {
                    { tcp_stream gone = std::move(*x); }  // the destructor closes it
                    co_return;
                });
        }
    }
}
