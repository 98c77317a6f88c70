// echo_server: a TCP echo server on 127.0.0.1, one task per connection.
//
//     echo_server [--port N] [--workers N] [--test]
//
// Prints "listening on 127.0.0.1:PORT" first (port 0 picks one) and runs until SIGINT or
// SIGTERM, which cancel every connection (samples/common/server.hpp). With --test it also runs
// a client against itself — 16 connections, messages of random sizes, every byte checked —
// then sends itself SIGTERM, and exits 0 if everything matched.
#include "../common/server.hpp"

#include <array>
#include <random>
#include <span>
#include <vector>

namespace {

// Echoes until the peer is done, the connection fails, or the server is cancelled.
gorun::task<> serve(sample::tcp_stream c) {
    std::array<std::byte, 16 * 1024> buf;
    auto stop = gorun::this_task::stop_token();
    for (;;) {
        auto n = co_await c.read(buf, stop);
        if (!n || *n == 0)
            co_return;
        if (!co_await c.write_all(std::span(buf.data(), *n), stop))
            co_return;
    }
}

gorun::task<> client(sample::address at, unsigned seed, std::atomic<int>* failures) {
    auto c = co_await sample::tcp_stream::connect(at);
    if (!c) {
        failures->fetch_add(1);
        co_return;
    }
    std::mt19937 rng(seed);
    std::vector<std::byte> out, in;
    for (int i = 0; i < 200; ++i) {
        out.resize(1 + rng() % 8192);
        for (auto& b : out)
            b = static_cast<std::byte>(rng());
        in.assign(out.size(), std::byte{0});
        auto w = co_await c->write_all(out);
        auto r = co_await c->read_exact(in);
        if (!w || !r || in != out) {
            failures->fetch_add(1);
            co_return;
        }
    }
}

gorun::task<> self_test(sample::address at, std::atomic<int>* failures) {
    gorun::wait_group wg;
    for (unsigned i = 0; i < 16; ++i)
        wg.go(client, at, i, failures);
    co_await wg.wait();
}

}  // namespace

int main(int argc, char** argv) {
    return sample::main("echo_server", argc, argv, &serve, &self_test);
}
