// server_main.hpp: what asio_echo_server and asio_http_hello share, the command-line and lifetime
// contract of gorun's network samples.
//
// - `--port N` (0 = the kernel picks one) and `--workers N` (threads; default: all CPUs).
// - Binds 127.0.0.1 only; the first line on stdout is `listening on 127.0.0.1:PORT`.
// - SIGINT or SIGTERM closes the acceptor and stops every io_context; the threads are joined and
//   the io_contexts destroyed, which destroys every suspended connection coroutine and closes its
//   socket; exit 0.
//
// Design: one io_context per worker thread (Asio's "io_context per CPU" pattern), each created
// with concurrency hint 1 and run by exactly one thread, so a connection's handlers never leave
// its thread and the reactor does not hand work between threads. The acceptor lives on worker
// 0's io_context and accepts each connection directly onto the next worker's io_context, round
// robin, which spreads N connections evenly. Rejected: one io_context run by N threads (every
// handler goes through the shared scheduler's mutex and one thread at a time waits in epoll;
// slower on loopback echo), and SO_REUSEPORT acceptors per thread (the kernel's hash spreads 64
// connections from one client unevenly).
//
// Asio 1.22 from Debian's libasio-dev, its default epoll reactor (io_uring support exists in
// 1.22 only behind ASIO_HAS_IO_URING and is not what an Asio user gets by default).
#pragma once

// Asio 1.22 recognises C++20 coroutines on clang only through <experimental/coroutine>, which
// clang 19's libstdc++ setup does not have; the <coroutine> support it uses for GCC works as is.
// (Later Asio versions test __cpp_impl_coroutine on clang too.)
#if defined(__clang__) && !defined(ASIO_HAS_CO_AWAIT) && __cpp_impl_coroutine >= 201902L
#define ASIO_HAS_CO_AWAIT 1
#endif

#include <asio.hpp>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string_view>
#include <thread>
#include <vector>

namespace peer {

using tcp = asio::ip::tcp;

// session(socket) is the per-connection coroutine; it runs on the socket's io_context.
using session_fn = std::function<asio::awaitable<void>(tcp::socket)>;

inline unsigned parse_uint(const char* name, const char* flag, const char* s, unsigned max) {
    unsigned v = 0;
    std::string_view sv = s ? s : "";
    auto [p, ec] = std::from_chars(sv.data(), sv.data() + sv.size(), v);
    if (sv.empty() || ec != std::errc{} || p != sv.data() + sv.size() || v > max) {
        std::fprintf(
            stderr, "%s: %s wants an integer 0..%u, got '%s'\n", name, flag, max, s ? s : "");
        std::exit(2);
    }
    return v;
}

inline asio::awaitable<void> accept_loop(
    tcp::acceptor& acceptor,
    std::vector<std::unique_ptr<asio::io_context>>& ctxs,
    session_fn session) {
    std::size_t next = 0;
    for (;;) {
        asio::io_context& target = *ctxs[next];
        next = (next + 1) % ctxs.size();
        asio::error_code ec;
        tcp::socket s =
            co_await acceptor.async_accept(target, asio::redirect_error(asio::use_awaitable, ec));
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) {
            // Shutting down (the signal handler closed the acceptor). Stop the io_contexts only
            // now, with no accept in flight: an aborted accept's handler left queued would hold
            // a socket of another io_context and could outlive it.
            for (auto& c : ctxs)
                c->stop();
            co_return;
        }
        if (ec) {
            // EMFILE and friends: report, keep the acceptor, try again a little later.
            std::fprintf(stderr, "accept: %s\n", ec.message().c_str());
            asio::steady_timer t(acceptor.get_executor(), std::chrono::milliseconds(5));
            co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            continue;
        }
        s.set_option(tcp::no_delay(true), ec);
        asio::co_spawn(target, session(std::move(s)), asio::detached);
    }
}

// Parses argv, binds, prints the listening line, serves until SIGINT/SIGTERM; returns the exit
// status.
inline int server_main(const char* name, int argc, char** argv, session_fn session) {
    unsigned port = 0;
    unsigned workers = std::thread::hardware_concurrency();
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        auto value = [&](std::string_view flag) -> const char* {
            // --flag N, --flag=N, and Go's one-dash forms.
            for (std::string_view f : {flag, flag.substr(1)}) {
                if (a == f)
                    return i + 1 < argc ? argv[++i] : "";
                if (a.size() > f.size() && a.substr(0, f.size()) == f && a[f.size()] == '=')
                    return argv[i] + f.size() + 1;
            }
            return nullptr;
        };
        if (const char* v = value("--port")) {
            port = parse_uint(name, "--port", v, 65535);
        } else if (const char* w = value("--workers")) {
            workers = parse_uint(name, "--workers", w, 1024);
        } else {
            std::fprintf(stderr, "%s: usage: %s [--port N] [--workers N]\n", name, name);
            return 2;
        }
    }
    if (workers == 0)
        workers = std::max(1u, std::thread::hardware_concurrency());

    std::vector<std::unique_ptr<asio::io_context>> ctxs;
    for (unsigned i = 0; i < workers; ++i)
        ctxs.push_back(std::make_unique<asio::io_context>(1));

    {
        // I/O objects must go before the io_context they use: this scope ends before ctxs.
        asio::io_context& main_ctx = *ctxs[0];
        tcp::acceptor acceptor(main_ctx);
        try {
            tcp::endpoint ep(
                asio::ip::make_address_v4("127.0.0.1"), static_cast<unsigned short>(port));
            acceptor.open(ep.protocol());
            acceptor.set_option(tcp::acceptor::reuse_address(true));
            acceptor.bind(ep);
            acceptor.listen(asio::socket_base::max_listen_connections);
        } catch (const std::system_error& e) {
            std::fprintf(stderr, "%s: bind 127.0.0.1:%u: %s\n", name, port, e.what());
            return 1;
        }
        std::printf(
            "listening on 127.0.0.1:%u\n", static_cast<unsigned>(acceptor.local_endpoint().port()));
        std::fflush(stdout);

        // Keep every io_context running while it has no connection.
        std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
        for (auto& c : ctxs)
            guards.push_back(asio::make_work_guard(*c));

        asio::signal_set signals(main_ctx, SIGINT, SIGTERM);
        signals.async_wait([&](const asio::error_code& ec, int) {
            asio::error_code ignored;
            if (!ec)
                acceptor.close(ignored);  // accept_loop sees operation_aborted and stops everything
        });
        asio::co_spawn(main_ctx, accept_loop(acceptor, ctxs, std::move(session)), asio::detached);

        std::vector<std::thread> threads;
        for (unsigned i = 1; i < workers; ++i)
            threads.emplace_back([&c = *ctxs[i]] { c.run(); });
        main_ctx.run();
        for (auto& t : threads)
            t.join();
    }
    // Destroying an io_context destroys the connection coroutines still suspended on it, and with
    // them their sockets.
    ctxs.clear();
    return 0;
}

}  // namespace peer
