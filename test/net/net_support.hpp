// Shared by the net tests (tcp_test, unix_test, udp_test): bodies that do not depend on the
// socket type — an echo server, a 100 kB echo check, an accept cancelled by a stop token, an
// accept woken by closing its listener, the listener's acceptor behaviour (queued connections
// each taken once, untaken ones closed with the listener, concurrent callers) — and a task
// that requests a stop after one yield.
#pragma once

#include <gorun/event.hpp>
#include <gorun/uring.hpp>

#include "harness.hpp"

#include <array>
#include <atomic>
#include <cstddef>
#include <cstring>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace gorun::test {

inline std::span<const std::byte> bytes(std::string_view s) {
    return std::as_bytes(std::span(s.data(), s.size()));
}

// Requests a stop once the task that started it had a chance to suspend on something.
inline gorun::task<> stop_after_yield(std::stop_source* s) {
    co_await gorun::yield();
    s->request_stop();
}

// Accepts one connection and echoes it until end of stream.
template <class Listener>
gorun::task<> echo_once(const Listener* l) {
    auto c = co_await l->accept();
    REQUIRE(c);
    std::array<std::byte, 4096> buf;
    for (;;) {
        auto n = co_await c->read(buf);
        if (!n || *n == 0)
            break;
        REQUIRE(co_await c->write_all(std::span(buf.data(), *n)));
    }
}

// Sends 100 kB through an echo on `c` (more than the socket buffers hold, so a task of its own
// writes while this one reads), shuts down the write side, and checks every byte came back
// and the stream then ends.
template <class Stream>
gorun::task<> echo_check(const Stream* c) {
    std::string msg(100'000, 'x');
    for (std::size_t i = 0; i < msg.size(); ++i)
        msg[i] = static_cast<char>('a' + i % 26);
    gorun::wait_group writer;
    writer.go(
        [](const Stream* s, const std::string* m) -> gorun::task<> {
            REQUIRE(co_await s->write_all(bytes(*m)));
            REQUIRE(co_await s->shutdown(Stream::direction::write));
        },
        c,
        &msg);
    std::string back(msg.size(), '\0');
    CHECK(co_await c->read_exact(std::as_writable_bytes(std::span(back))));
    CHECK(back == msg);
    std::array<std::byte, 16> tail;
    auto eof = co_await c->read(tail);
    REQUIRE(eof);
    CHECK(*eof == 0);
    co_await writer.wait();
}

// What an accept pending on `l` returns when a stop token cancels it.
template <class Listener>
gorun::task<std::error_code> accept_stopped(const Listener* l) {
    std::stop_source stop;
    gorun::wait_group wg;
    std::error_code err;
    wg.go(
        [](const Listener* lp, std::stop_token t, std::error_code* out) -> gorun::task<> {
            auto c = co_await lp->accept(t);
            *out = c ? std::error_code{} : c.error();
        },
        l,
        stop.get_token(),
        &err);
    co_await gorun::yield();
    stop.request_stop();
    co_await wg.wait();
    co_return err;
}

// Whether an accept pending on `l` fails when `l` is closed meanwhile.
template <class Listener>
gorun::task<bool> accept_fails_on_close(Listener* l) {
    gorun::wait_group wg;
    bool failed = false;
    wg.go(
        [](const Listener* lp, bool* out) -> gorun::task<> {
            auto c = co_await lp->accept();
            *out = !c;
        },
        l,
        &failed);
    co_await gorun::yield();
    l->close();
    co_await wg.wait();
    co_return failed;
}

// Lets the SQEs made on this worker before it reach the kernel: a nop's completion comes after
// every SQE queued on the ring ahead of it. With one worker that includes the op of a task
// that signalled this one and then suspended on it (with more workers it is likely, not sure).
inline gorun::task<> flush_ring() {
    (void)co_await gorun::uring::op([](io_uring_sqe* sqe) { io_uring_prep_nop(sqe); });
}

// Go's Close: ending a stream `a` (close(), move-assignment, destruction: `end`) while other
// tasks have a read and a write pending on it ends both calls, and the peer `b` then reads
// end of stream. A pending op holds its own reference to the socket, so a plain close(2) of
// the number neither woke them nor released the connection: both hung, and so did `b`.
// Each call takes the fd when it is made, so the tasks signal once they have made theirs, and
// flush_ring puts their SQEs in the kernel before the end (with several workers they may come
// after it: then EBADF, which passes too). The 30 s
// deadline on `b` only keeps a failure from hanging the test.
template <class Stream>
gorun::task<> end_wakes_pending_calls(Stream* a, Stream* b, gorun::task<> (*end)(Stream*)) {
    gorun::wait_group wg;
    gorun::event reading, writing;
    bool read_ended = false;
    std::error_code write_err;
    wg.go(
        [](const Stream* s, gorun::event* made, bool* out) -> gorun::task<> {
            std::array<std::byte, 16> buf;
            auto call = s->read(buf);
            made->set();
            auto r = co_await std::move(call);
            *out = !r || *r == 0;  // an error or end of stream: not data, which nobody sent
        },
        a,
        &reading,
        &read_ended);
    wg.go(
        [](const Stream* s, gorun::event* made, std::error_code* out) -> gorun::task<> {
            std::vector<std::byte> big(16 << 20);  // more than the socket buffers hold
            auto call = s->write_all(big);
            made->set();
            auto w = co_await std::move(call);
            *out = w ? std::error_code{} : w.error();
        },
        a,
        &writing,
        &write_err);
    co_await reading.wait();
    co_await writing.wait();
    co_await flush_ring();  // the calls are in the kernel (one worker), which is the case at issue
    co_await end(a);
    bool eof = false;
    std::vector<std::byte> sink(1 << 16);
    for (;;) {
        auto n = co_await b->read(sink, gorun::clock::now() + std::chrono::seconds(30));
        if (!n || *n == 0) {
            eof = n.has_value();
            break;
        }
    }
    CHECK(eof);
    if (!eof)
        (void)co_await b->close();  // unsticks the calls on `a` of an unfixed build
    co_await wg.wait();
    CHECK(read_ended);
    CHECK(write_err);  // EPIPE (or EBADF when its send came after the close)
}

// What a client connects to: a Unix listener's name, a TCP listener's address.
template <class Listener>
auto target_of(const Listener& l) {
    if constexpr (requires { l.path(); })
        return l.path();
    else
        return l.local_address().value();
}

// A client that connects to `at`, sends its id `i` and checks that it comes back.
template <class Stream, class Target>
gorun::task<> id_client(Target at, int i) {
    // Named first: g++ 12 cannot type `(co_await dependent).member` in a template
    // ("insufficient contextual information to determine type").
    auto r = co_await Stream::connect(at);
    auto c = std::move(r).value();
    std::array<std::byte, 4> msg{};
    std::memcpy(msg.data(), &i, 4);
    REQUIRE(co_await c.write_all(msg));
    std::array<std::byte, 4> back{};
    REQUIRE(co_await c.read_exact(back));
    CHECK(std::memcmp(back.data(), &i, 4) == 0);
}

// The server side of id_client: echoes the 4-byte id.
template <class Stream>
gorun::task<> echo_id(Stream s) {
    std::array<std::byte, 4> b{};
    REQUIRE(co_await s.read_exact(b));
    REQUIRE(co_await s.write_all(b));
}

// `n` clients connect (their connections queue in the backlog) before anyone accepts; then `n`
// accept() calls take them, each once: every client gets its own id echoed back.
template <class Stream, class Listener>
gorun::task<> accept_queued(const Listener* l, int n) {
    gorun::wait_group clients;
    for (int i = 0; i < n; ++i)
        clients.go(id_client<Stream, decltype(target_of(*l))>, target_of(*l), i);
    gorun::wait_group served;
    for (int i = 0; i < n; ++i) {
        auto s = co_await l->accept();
        REQUIRE(s);
        served.go(echo_id<Stream>, std::move(*s));
    }
    co_await clients.wait();
    co_await served.wait();
}

// Connects 10 clients to the listener `(*make)()` returns and accepts one of them, so the
// listener's acceptor runs with the other connections queued in it; then closes the listener.
// Every client must see its connection closed (EOF), and nothing may stay open.
// `make` is a pointer (to a function or a lambda the caller keeps): g++ 12 destroys a class
// prvalue passed by value to a coroutine twice inside a co_await (seen as a double free;
// GCC PR 99576; regression test in test/task_test.cpp).
template <class Stream, class Make>
gorun::task<> close_with_buffered_connections(Make* make) {
    int base = open_fds();
    {
        auto l = (*make)();
        std::vector<Stream> clients;
        for (int i = 0; i < 10; ++i) {
            auto c = co_await Stream::connect(target_of(l));  // named: g++ 12, as in id_client
            clients.push_back(std::move(c).value());
        }
        auto first = co_await l.accept();
        REQUIRE(first);
        l.close();
        CHECK(!l.is_open());
        auto after = co_await l.accept();
        CHECK(after.error() == std::errc::bad_file_descriptor);
        { auto taken = std::move(*first); }  // closed: its client sees EOF too
        int eofs = 0;
        for (auto& c : clients) {
            std::array<std::byte, 1> b{};
            auto r = co_await c.read(b);  // the accepted side was closed by gorun (or reset)
            if (!r || *r == 0)
                ++eofs;
        }
        CHECK(eofs == 10);
    }
    CHECK(open_fds() == base);
}

// Many accept() callers at once on one listener (one armed accept): each gets its own
// connection, and a caller that gave up first took none.
template <class Stream, class Listener>
gorun::task<> concurrent_accepts(const Listener* l) {
    constexpr int n = 16;
    std::stop_source quitter;
    std::error_code quit_err;
    gorun::wait_group quit;
    // One caller that gives up first: its withdrawal must not take a connection.
    quit.go(
        [](const Listener* lp, std::stop_token st, std::error_code* out) -> gorun::task<> {
            auto c = co_await lp->accept(st);
            *out = c ? std::error_code{} : c.error();
        },
        l,
        quitter.get_token(),
        &quit_err);
    co_await gorun::yield();
    quitter.request_stop();
    co_await quit.wait();
    CHECK(quit_err == std::errc::operation_canceled);
    std::atomic<int> served{0};
    gorun::wait_group servers, clients;
    for (int i = 0; i < n; ++i)
        servers.go(echo_once<Listener>, l);
    for (int i = 0; i < n; ++i)
        clients.go(
            [](decltype(target_of(*l)) at, std::atomic<int>* ok) -> gorun::task<> {
                auto c = co_await Stream::connect(at);
                REQUIRE(c);
                co_await echo_check(&*c);
                ok->fetch_add(1);
            },
            target_of(*l),
            &served);
    co_await clients.wait();
    co_await servers.wait();
    CHECK(served.load() == n);
}

}  // namespace gorun::test
