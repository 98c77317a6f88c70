// gorun/net/unix_listener.hpp — a listening Unix-domain stream socket; accept suspends the task.
//
//     auto l = gorun::net::unix_listener::listen("/run/app.sock");   // or "@app" (abstract)
//     if (!l) { /* EADDRINUSE: the path exists — see below */ }
//     for (;;) {
//         auto c = co_await l->accept();          // io_result<unix_stream>
//         if (!c) break;
//         gorun::go(serve, std::move(*c));
//     }
//
// listen() is immediate (socket, bind and listen do not block). bind(2) creates the socket
// file and fails with EADDRINUSE if anything already exists at the path — including the stale
// socket file of a process that died without removing it. listen() never unlinks an existing
// path: deciding that a file is stale (nobody listens there) and removing it is the caller's
// job, as it is with Go's net.Listen("unix", ...). The file this listener created is removed
// when it closes (Go's UnixListener does the same; unix_listen_options::unlink_on_close turns it
// off). Abstract names ("@name") have no file: nothing to unlink, nothing goes stale.
//
// accept() is tcp_listener's (they share the acceptor): the first call starts an acceptor task
// that keeps one multishot io_uring accept armed and hands connections to callers through a
// buffered channel; EMFILE/ENFILE back off 5 ms → 1 s and re-arm, the connection staying
// queued (IO-5); a caller that gives up never takes a connection; accepted sockets are
// close-on-exec. Closing the listener removes its file at once; the socket is shut down at once
// and closed when the acceptor task has ended (IO-8) — so an abstract name stays bound until
// then: an accept() after close() returns EBADF once it is free.
#pragma once

#include <gorun/io_control.hpp>
#include <gorun/io_result.hpp>
#include <gorun/net/unix_stream.hpp>
#include <gorun/task.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace gorun::net {

namespace detail {
struct acceptor;  // src/net/acceptor.hpp, shared with tcp_listener
}  // namespace detail

/// Options for unix_listener::listen.
struct unix_listen_options {
    int backlog = 4096;           ///< listen(2)'s backlog (the kernel caps it at somaxconn)
    bool unlink_on_close = true;  ///< remove the socket file when the listener closes
};

/// A listening Unix-domain stream socket (owns it, and the file it created).
///
/// Suspends: accept. Thread-safety: several tasks may accept on one listener concurrently, and
/// close() may run meanwhile (from any thread); moving or destroying it needs no accept running.
/// On shutdown: a pending accept is cancelled, the acceptor task and its armed accept with it
/// (IO-2); the destructor closes the socket. A listener may outlive a runtime: the next
/// runtime's first accept() starts a new acceptor task (connections the old one had accepted
/// and nobody took are closed; those still in the kernel's backlog are served). It serves one
/// runtime at a time.
class unix_listener {
public:
    unix_listener() noexcept = default;
    unix_listener(unix_listener&& o) noexcept = default;
    unix_listener& operator=(unix_listener&& o) noexcept;
    unix_listener(const unix_listener&) = delete;
    unix_listener& operator=(const unix_listener&) = delete;
    ~unix_listener() { reset(); }

    /// Binds and listens on `path` (a filesystem path, or "@name" for the abstract namespace).
    /// Suspends: no. Errors: EADDRINUSE (the path exists — a stale file is not removed, see
    /// the top of this header — or the abstract name is taken), ENOENT (no such directory),
    /// EACCES, ENAMETOOLONG, EINVAL (empty name), EMFILE.
    static io_result<unix_listener> listen(std::string_view path, unix_listen_options opts = {});

    /// Waits for the next connection (the first call starts the acceptor task).
    /// Suspends: until a connection is there, or `ctl` ends the wait.
    /// Cancellation: `ctl` withdraws this caller only; a connection is never lost to it.
    /// Errors: ECANCELED/ETIMEDOUT per `ctl`; EBADF once closed (when the acceptor task has
    /// ended, IO-8); EMFILE/ENFILE are not returned (see the top of this header).
    [[nodiscard]] task<io_result<unix_stream>> accept(io_control ctl = {}) const;

    /// The name it listens on, as given to listen().
    const std::string& path() const noexcept { return path_; }
    bool is_open() const noexcept { return fd() >= 0; }
    /// The listening socket; -1 once closed.
    int fd() const noexcept;
    /// Closes the listener: pending and later accepts fail with EBADF, the armed accept is
    /// cancelled, connections accepted and not taken are closed, and its file is removed
    /// (unlink_on_close). Suspends: never (the socket is shut down at once and closed when the
    /// acceptor task has ended, IO-8). Thread-safety: any thread.
    void close() noexcept { reset(); }

private:
    void reset() noexcept;
    // Shared with the acceptor task, which may outlive the listener until its armed accept has
    // ended. Set once by listen(); close() does not reset it (accept() may be copying it).
    std::shared_ptr<detail::acceptor> acc_;
    std::string path_;
    bool unlink_on_close_ = true;
};

}  // namespace gorun::net
