// What the network samples share: the command line (--port N, --workers N, --test), the
// listener, the "listening on" line, one task per connection in a task_group, and shutdown on
// SIGINT/SIGTERM by cancelling that group. A sample supplies its per-connection task and its
// --test client.
#pragma once

#include <gorun/gorun.hpp>
#include <gorun/net/tcp_listener.hpp>
#include <gorun/signal_set.hpp>

#include <fmt/format.h>

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace sample {

using gorun::net::address;
using gorun::net::tcp_listener;
using gorun::net::tcp_stream;

struct options {
    unsigned port = 0;
    unsigned workers = 0;
    bool test = false;
};

inline bool parse_args(int argc, char** argv, options& o) {
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--test") {
            o.test = true;
        } else if ((a == "--port" || a == "--workers") && i + 1 < argc) {
            char* end = nullptr;
            unsigned long v = std::strtoul(argv[++i], &end, 10);
            if (*end != '\0' || v > (a == "--port" ? 65535u : 4096u))
                return false;
            (a == "--port" ? o.port : o.workers) = static_cast<unsigned>(v);
        } else {
            return false;
        }
    }
    return true;
}

// serve(tcp_stream) -> task<>: one connection; it should pass this_task::stop_token() to its
// reads and writes, so that cancelling the server ends it.
// self_test(address, std::atomic<int>* failures) -> task<>: the --test client.
using serve_fn = gorun::task<> (*)(tcp_stream);
using test_fn = gorun::task<> (*)(address, std::atomic<int>*);

inline gorun::task<> accept_loop(const tcp_listener* l, gorun::task_group* conns, serve_fn serve) {
    auto stop = gorun::this_task::stop_token();
    while (!stop.stop_requested()) {
        auto c = co_await l->accept(stop);
        if (c)
            conns->go(serve, std::move(*c));
        else if (c.error() != std::errc::operation_canceled)
            fmt::print(stderr, "accept: {}\n", c.error().message());
    }
}

// Runs the --test client, then sends SIGTERM to the process: the real shutdown path.
inline gorun::task<> test_then_stop(test_fn test, address at, std::atomic<int>* failures) {
    co_await test(at, failures);
    ::kill(::getpid(), SIGTERM);
}

inline gorun::task<int> serve_until_signal(
    const char* name, options o, const gorun::signal_set* signals, serve_fn serve, test_fn test) {
    auto l = tcp_listener::listen(address::loopback_v4(static_cast<std::uint16_t>(o.port)));
    if (!l) {
        fmt::print(stderr, "{}: listen on port {}: {}\n", name, o.port, l.error().message());
        co_return 1;
    }
    address at = l->local_address().value();
    fmt::print("listening on {}\n", at);
    std::fflush(stdout);

    std::atomic<int> failures{0};
    gorun::task_group server;
    server.go(accept_loop, &*l, &server, serve);
    if (o.test)
        gorun::go(test_then_stop, test, at, &failures);
    auto sig = co_await signals->wait();
    server.cancel();         // every connection's pending read or write is cancelled (IO-1)
    co_await server.wait();  // and has finished
    fmt::print("{}: {}, shut down cleanly\n", name, sig ? strsignal(*sig) : "signal wait failed");
    if (o.test && failures.load() != 0) {
        fmt::print(stderr, "{}: self-test: {} failure(s)\n", name, failures.load());
        co_return 1;
    }
    co_return 0;
}

// The whole main(): exit 2 on bad arguments, 77 where io_uring cannot be set up (a skip for
// ctest), else the server's result.
inline int main(const char* name, int argc, char** argv, serve_fn serve, test_fn test) {
    options o;
    if (!parse_args(argc, argv, o)) {
        fmt::print(stderr, "usage: {} [--port N] [--workers N] [--test]\n", name);
        return 2;
    }
    try {
        gorun::signal_set signals{SIGINT, SIGTERM};  // before the workers start (they inherit)
        gorun::runtime_options ro;
        ro.workers = o.workers;
        return gorun::run(serve_until_signal(name, o, &signals, serve, test), ro);
    } catch (const gorun::setup_error& e) {
        fmt::print(stderr, "{}: {}\n", name, e.what());
        return 77;
    }
}

}  // namespace sample
