// gorun/net/tcp_listener.hpp — a listening TCP socket; accept suspends the task.
//
//     auto l = gorun::net::tcp_listener::listen(*gorun::net::address::parse("127.0.0.1:0"));
//     fmt::print("listening on {}\n", l->local_address().value());
//     for (;;) {
//         auto c = co_await l->accept();          // io_result<tcp_stream>
//         if (!c) break;
//         gorun::go(serve, std::move(*c));
//     }
//
// listen() is immediate (socket, setsockopt, bind and listen do not block). accept() is an
// io_uring accept op; accepted sockets are close-on-exec with TCP_NODELAY on (as Go's).
// When the process is out of descriptors (EMFILE, ENFILE) accept backs off — 5 ms, doubling to
// 1 s, as Go's http.Server — and tries again, so the connection stays queued in the kernel's
// backlog instead of being dropped, and no worker busy-loops (IO-5). A cancelled accept whose
// connection arrived anyway closes it (IO-1). Each accept() is one single-shot accept op; a
// server that wants one multishot accept armed across connections runs a uring::multishot on
// fd() (docs/design/io.md, "Why tcp_listener does not keep a multishot accept armed").
#pragma once

#include <gorun/io_control.hpp>
#include <gorun/io_result.hpp>
#include <gorun/net/address.hpp>
#include <gorun/net/tcp_stream.hpp>
#include <gorun/task.hpp>

#include <atomic>
#include <utility>

namespace gorun::net {

/// Options for tcp_listener::listen.
struct listen_options {
    int backlog = 4096;         ///< listen(2)'s backlog (the kernel caps it at somaxconn)
    bool reuse_address = true;  ///< SO_REUSEADDR: rebind while old connections sit in TIME_WAIT
    bool reuse_port = false;  ///< SO_REUSEPORT: several listeners share the port (kernel-balanced)
    bool v6_only = false;     ///< IPV6_V6ONLY for an IPv6 address
};

/// A listening TCP socket (owns it).
///
/// Suspends: accept. Thread-safety: several tasks may accept on one listener concurrently.
/// On shutdown: a pending accept is cancelled; the destructor closes the socket.
class tcp_listener {
public:
    tcp_listener() noexcept = default;
    tcp_listener(tcp_listener&& o) noexcept
        : fd_(o.fd_.exchange(-1, std::memory_order_relaxed)) {}
    tcp_listener& operator=(tcp_listener&& o) noexcept;
    tcp_listener(const tcp_listener&) = delete;
    tcp_listener& operator=(const tcp_listener&) = delete;
    ~tcp_listener() { reset(); }

    /// Binds and listens on `at` (port 0 picks a free port: read it from local_address()).
    /// Suspends: no. Errors: EADDRINUSE, EACCES, EMFILE, EADDRNOTAVAIL, EINVAL (empty address).
    static io_result<tcp_listener> listen(const address& at, listen_options opts = {}) noexcept;

    /// Waits for the next connection. Errors: ECANCELED/ETIMEDOUT per `ctl`; EMFILE/ENFILE are
    /// not returned (see the top of this header) unless `ctl` ends the wait first.
    [[nodiscard]] task<io_result<tcp_stream>> accept(io_control ctl = {}) const;

    io_result<address> local_address() const noexcept;
    bool is_open() const noexcept { return fd() >= 0; }
    int fd() const noexcept { return fd_.load(std::memory_order_relaxed); }
    /// Closes the socket now (pending accepts fail with EBADF or ECANCELED).
    void close() noexcept { reset(); }

private:
    explicit tcp_listener(int fd) noexcept
        : fd_(fd) {}
    void reset() noexcept;
    // Atomic because close() may run while accepts start in other tasks (Go's Close during
    // Accept); relaxed: only the number itself passes through it (the kernel orders what
    // happens to the socket). An accept that loads it after close() gets -1 and fails EBADF.
    std::atomic<int> fd_{-1};
};

}  // namespace gorun::net
