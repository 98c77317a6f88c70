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
// listen() is immediate (socket, setsockopt, bind and listen do not block). The first accept()
// starts the listener's acceptor task, which keeps one multishot io_uring accept armed
// (IORING_ACCEPT_MULTISHOT, Linux 5.19+; single accepts on older kernels, which refuse it with
// EINVAL) and hands the connections to accept() callers through a buffered channel: one SQE
// for any number of connections. Accepted sockets are close-on-exec with TCP_NODELAY on (as
// Go's). When the process is out of descriptors (EMFILE, ENFILE) the acceptor backs off — 5 ms,
// doubling to 1 s, as Go's http.Server — and re-arms, so the connection stays queued in the
// kernel's backlog instead of being dropped, and no worker busy-loops (IO-5). Closing the
// listener cancels the armed accept; connections accepted and not yet taken are closed (IO-1).
#pragma once

#include <gorun/io_control.hpp>
#include <gorun/io_result.hpp>
#include <gorun/net/address.hpp>
#include <gorun/net/tcp_stream.hpp>
#include <gorun/task.hpp>

#include <atomic>
#include <memory>
#include <utility>

namespace gorun::net {

namespace detail {
struct acceptor;  // src/net/acceptor.hpp, shared with unix_listener
// For tests: makes acceptors started from now on behave as on a kernel without multishot
// accept (the multishot SQE is treated as refused with EINVAL).
void tcp_accept_force_single_shot(bool on) noexcept;
// For tests (IO-8): `hook(sock)` runs on the acceptor's worker each time an accept SQE has been
// prepared with the listening socket's number, before the worker's next flush; nullptr: none.
void listener_on_arm_for_test(void (*hook)(int sock)) noexcept;
}  // namespace detail

/// Options for tcp_listener::listen.
struct listen_options {
    int backlog = 4096;         ///< listen(2)'s backlog (the kernel caps it at somaxconn)
    bool reuse_address = true;  ///< SO_REUSEADDR: rebind while old connections sit in TIME_WAIT
    bool reuse_port = false;  ///< SO_REUSEPORT: several listeners share the port (kernel-balanced)
    bool v6_only = false;     ///< IPV6_V6ONLY for an IPv6 address
};

/// A listening TCP socket (owns it).
///
/// Suspends: accept. Thread-safety: several tasks may accept on one listener concurrently, and
/// close() may run meanwhile (from any thread); moving or destroying it needs no accept running.
/// On shutdown: a pending accept is cancelled, the acceptor task and its armed accept with it
/// (IO-2); the destructor closes the socket. A listener may outlive a runtime: the next
/// runtime's first accept() starts a new acceptor task (connections the old one had accepted
/// and nobody took are closed; those still in the kernel's backlog are served). It serves one
/// runtime at a time.
class tcp_listener {
public:
    tcp_listener() noexcept = default;
    tcp_listener(tcp_listener&& o) noexcept = default;
    tcp_listener& operator=(tcp_listener&& o) noexcept;
    tcp_listener(const tcp_listener&) = delete;
    tcp_listener& operator=(const tcp_listener&) = delete;
    ~tcp_listener() { reset(); }

    /// Binds and listens on `at` (port 0 picks a free port: read it from local_address()).
    /// Suspends: no. Errors: EADDRINUSE, EACCES, EMFILE, EADDRNOTAVAIL, EINVAL (empty address).
    static io_result<tcp_listener> listen(const address& at, listen_options opts = {}) noexcept;

    /// Waits for the next connection (the first call starts the acceptor task).
    /// Suspends: until a connection is there, or `ctl` ends the wait.
    /// Cancellation: `ctl` withdraws this caller only; the armed accept goes on serving others,
    /// and a connection is never lost to a cancelled caller (it stays for the next one).
    /// Errors: ECANCELED/ETIMEDOUT per `ctl`; EBADF once the listener is closed (returned when
    /// the acceptor task has ended: the socket is closed by then, IO-8); other accept
    /// errors as the kernel reports them. EMFILE/ENFILE are not returned (see the top of this
    /// header).
    [[nodiscard]] task<io_result<tcp_stream>> accept(io_control ctl = {}) const;

    io_result<address> local_address() const noexcept;
    bool is_open() const noexcept { return fd() >= 0; }
    /// The listening socket; -1 once closed.
    int fd() const noexcept;
    /// Closes the listener: pending and later accepts fail with EBADF, the armed accept is
    /// cancelled, connections accepted and not taken are closed. Suspends: never (the acceptor
    /// task ends by itself; the socket is shut down at once and closed when the task has ended,
    /// so its number is never reused under an armed accept — IO-8; an accept() after close()
    /// returns once it has). Thread-safety: any thread.
    void close() noexcept { reset(); }

private:
    explicit tcp_listener(std::shared_ptr<detail::acceptor> a) noexcept
        : acc_(std::move(a)) {}
    void reset() noexcept;
    // Shared with the acceptor task, which may outlive the listener until its armed accept has
    // ended. Set once by listen(); close() does not reset it (accept() may be copying it).
    std::shared_ptr<detail::acceptor> acc_;
};

}  // namespace gorun::net
