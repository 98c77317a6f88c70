// Shared by the net tests (tcp_test, unix_test, udp_test): bodies that do not depend on the
// socket type — an echo server, a 100 kB echo check, an accept cancelled by a stop token, an
// accept woken by closing its listener — and a task that requests a stop after one yield.
#pragma once

#include "harness.hpp"

#include <array>
#include <cstddef>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <system_error>

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

}  // namespace gorun::test
