// TCP echo stress (TESTING.md, stress tier; IO-1, IO-6): C loopback connections each echo B
// bytes through a gorun server, written and read in random chunk sizes from both sides at once
// (full duplex: the client writes while it reads the echo back). Checked: every byte comes back
// exactly, in order (a per-connection pseudo-random stream, verified as it arrives), every
// connection ends cleanly (end of stream after the last byte), and the fd count is back to
// baseline.
// Size (GORUN_STRESS_SCALE = s): C = min(10,000, 200 s) connections of B = min(1 MiB, 64 KiB s)
// bytes, at most 1,000 open at once (a semaphore); a quarter of each under sanitizers. The
// issue's full run is s = 50 in release: 10,000 connections x 1 MiB.
#include <gorun/net/tcp_listener.hpp>
#include <gorun/net/tcp_stream.hpp>

#include "harness.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <random>
#include <vector>

using gorun::net::address;
using gorun::net::tcp_listener;
using gorun::net::tcp_stream;

namespace {

struct sizes {
    std::uint64_t connections;
    std::uint64_t bytes;
    std::uint64_t concurrent;
};

sizes test_sizes() {
    std::uint64_t s = gorun::test::stress_scale();
    sizes z{
        std::min<std::uint64_t>(10'000, 200 * s),
        std::min<std::uint64_t>(1 << 20, (64 << 10) * s),
        1000};
    if (gorun::test::sanitized()) {
        z.connections /= 4;
        z.bytes /= 4;
    }
    z.concurrent = std::min(z.concurrent, z.connections);
    return z;
}

// Byte i of connection c's stream.
std::byte stream_byte(std::uint64_t c, std::uint64_t i) {
    std::uint64_t x = (c << 40) ^ (i / 8) ^ 0x9E3779B97F4A7C15ull;
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 29;
    return static_cast<std::byte>(x >> (8 * (i % 8)));
}

struct totals {
    std::atomic<std::uint64_t> bad_bytes{0};
    std::atomic<std::uint64_t> failed{0};
    std::atomic<std::uint64_t> finished{0};
    std::atomic<std::uint64_t> echoed{0};
};

gorun::task<> echo(tcp_stream c, totals* t) {
    std::vector<std::byte> buf(64 * 1024);
    for (;;) {
        auto n = co_await c.read(buf);
        if (!n) {
            t->failed.fetch_add(1);
            co_return;
        }
        if (*n == 0)
            co_return;  // the client is done; closing ends its read loop
        if (!co_await c.write_all(std::span(buf.data(), *n))) {
            t->failed.fetch_add(1);
            co_return;
        }
        t->echoed.fetch_add(*n, std::memory_order_relaxed);
    }
}

gorun::task<> server(const tcp_listener* l, std::uint64_t n, totals* t, gorun::wait_group* conns) {
    for (std::uint64_t i = 0; i < n; ++i) {
        auto c = co_await l->accept();
        if (!c) {
            t->failed.fetch_add(1);
            co_return;
        }
        conns->go(echo, std::move(*c), t);
    }
}

gorun::task<> writer(const tcp_stream* c, std::uint64_t id, std::uint64_t bytes, totals* t) {
    std::mt19937_64 rng(id * 7919 + 1);
    std::vector<std::byte> chunk;
    for (std::uint64_t sent = 0; sent < bytes;) {
        std::uint64_t k = std::min<std::uint64_t>(bytes - sent, 1 + rng() % (64 * 1024));
        chunk.resize(k);
        for (std::uint64_t j = 0; j < k; ++j)
            chunk[j] = stream_byte(id, sent + j);
        if (!co_await c->write_all(chunk)) {
            t->failed.fetch_add(1);
            co_return;
        }
        sent += k;
    }
    if (!co_await c->shutdown(tcp_stream::direction::write))
        t->failed.fetch_add(1);
}

gorun::task<>
client(address at, std::uint64_t id, std::uint64_t bytes, totals* t, gorun::semaphore* slots) {
    auto c = co_await tcp_stream::connect(at);
    if (!c) {
        t->failed.fetch_add(1);
        slots->release();
        co_return;
    }
    gorun::wait_group w;
    w.go(writer, &*c, id, bytes, t);
    std::mt19937_64 rng(id * 104729 + 3);
    std::vector<std::byte> buf(64 * 1024);
    std::uint64_t got = 0, bad = 0;
    for (;;) {
        std::size_t want = 1 + rng() % buf.size();
        auto n = co_await c->read(std::span(buf.data(), want));
        if (!n) {
            t->failed.fetch_add(1);
            break;
        }
        if (*n == 0)
            break;
        for (std::size_t j = 0; j < *n; ++j)
            bad += buf[j] != stream_byte(id, got + j);
        got += *n;
    }
    co_await w.wait();
    if (got != bytes)
        t->failed.fetch_add(1);
    t->bad_bytes.fetch_add(bad);
    t->finished.fetch_add(1);
    slots->release();
}

}  // namespace

GORUN_TEST_CASE("IO-6: loopback connections echo every byte in order with random chunking") {
    const sizes z = test_sizes();
    int fds_before = gorun::test::open_fds();
    totals t;
    {
        auto l = tcp_listener::listen(address::loopback_v4(0)).value();
        address at = l.local_address().value();
        gorun::wait_group conns, clients;
        conns.go(server, &l, z.connections, &t, &conns);
        gorun::semaphore slots(static_cast<std::int64_t>(z.concurrent));
        for (std::uint64_t i = 0; i < z.connections; ++i) {
            co_await slots.acquire();  // at most z.concurrent connections open at once
            clients.go(client, at, i, z.bytes, &t, &slots);
        }
        co_await clients.wait();
        co_await conns.wait();
        l.close();  // IO-8: the socket is closed when the acceptor has ended, which accept() awaits
        CHECK((co_await l.accept()).error() == std::errc::bad_file_descriptor);
    }
    std::printf(
        "stress_tcp_echo_test: %u workers: %llu connections x %llu bytes echoed (%llu bytes in all)\n",
        gorun::test::workers(),
        static_cast<unsigned long long>(t.finished.load()),
        static_cast<unsigned long long>(z.bytes),
        static_cast<unsigned long long>(t.echoed.load()));
    CHECK(t.failed.load() == 0);
    CHECK(t.bad_bytes.load() == 0);
    CHECK(t.finished.load() == z.connections);
    CHECK(t.echoed.load() == z.connections * z.bytes);
    CHECK(gorun::test::open_fds() == fds_before);
}
