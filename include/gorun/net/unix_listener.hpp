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
// accept() is an io_uring accept op with tcp_listener's behaviour (they share it): EMFILE/
// ENFILE back off 5 ms → 1 s and try again, the connection staying queued (IO-5); a cancelled
// accept whose connection arrived anyway closes it (IO-1); accepted sockets are close-on-exec.
#pragma once

#include <gorun/io_control.hpp>
#include <gorun/io_result.hpp>
#include <gorun/net/unix_stream.hpp>
#include <gorun/task.hpp>

#include <atomic>
#include <string>
#include <string_view>
#include <utility>

namespace gorun::net {

/// Options for unix_listener::listen.
struct unix_listen_options {
    int backlog = 4096;           ///< listen(2)'s backlog (the kernel caps it at somaxconn)
    bool unlink_on_close = true;  ///< remove the socket file when the listener closes
};

/// A listening Unix-domain stream socket (owns it, and the file it created).
///
/// Suspends: accept. Thread-safety: several tasks may accept on one listener concurrently.
/// On shutdown: a pending accept is cancelled; the destructor closes the socket.
class unix_listener {
public:
    unix_listener() noexcept = default;
    unix_listener(unix_listener&& o) noexcept
        : fd_(o.fd_.exchange(-1, std::memory_order_relaxed))
        , path_(std::move(o.path_))
        , unlink_on_close_(o.unlink_on_close_) {}
    unix_listener& operator=(unix_listener&& o) noexcept;
    unix_listener(const unix_listener&) = delete;
    unix_listener& operator=(const unix_listener&) = delete;
    ~unix_listener() { reset(); }

    /// Binds and listens on `path` (a filesystem path, or "@name" for the abstract namespace).
    /// Suspends: no. Errors: EADDRINUSE (the path exists — a stale file is not removed, see
    /// the top of this header — or the abstract name is taken), ENOENT (no such directory),
    /// EACCES, ENAMETOOLONG, EINVAL (empty name), EMFILE.
    static io_result<unix_listener> listen(std::string_view path, unix_listen_options opts = {});

    /// Waits for the next connection. Errors: ECANCELED/ETIMEDOUT per `ctl`; EMFILE/ENFILE are
    /// not returned (see the top of this header) unless `ctl` ends the wait first.
    [[nodiscard]] task<io_result<unix_stream>> accept(io_control ctl = {}) const;

    /// The name it listens on, as given to listen().
    const std::string& path() const noexcept { return path_; }
    bool is_open() const noexcept { return fd() >= 0; }
    int fd() const noexcept { return fd_.load(std::memory_order_relaxed); }
    /// Closes the socket now (pending accepts fail) and removes its file (unlink_on_close).
    void close() noexcept { reset(); }

private:
    void reset() noexcept;
    // Atomic because close() may run while accepts start in other tasks (Go's Close during
    // Accept); relaxed: only the number itself passes through it (the kernel orders what
    // happens to the socket). An accept that loads it after close() gets -1 and fails EBADF.
    std::atomic<int> fd_{-1};
    std::string path_;
    bool unlink_on_close_ = true;
};

}  // namespace gorun::net
