// unix_stream and unix_listener (net/unix_stream.hpp, net/unix_listener.hpp). The stream
// calls are socket_ops.hpp's loops and accept is acceptor.hpp's, both shared with tcp_stream/
// tcp_listener; this file
// adds what is Unix-specific: names (path or "@abstract") to and from sockaddr_un, connect
// (a uring op whose sockaddr_un lives in the coroutine frame, IO-1), socketpair, and the
// listener's socket file.
#include <gorun/net/unix_listener.hpp>
#include <gorun/net/unix_stream.hpp>
#include <gorun/uring.hpp>

#include "acceptor.hpp"
#include "socket_ops.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <memory>

namespace gorun::net {

using socket_ops::errno_code;

namespace {

// Fills `sa` for `name`; the length to pass to the kernel, or an error. An abstract name is
// the bytes after '@' behind a NUL, its length exact (the kernel counts every byte, NULs
// included); a path is NUL-terminated.
io_result<socklen_t> to_sockaddr(std::string_view name, sockaddr_un& sa) noexcept {
    sa = {};
    sa.sun_family = AF_UNIX;
    if (name.empty() || name.find('\0') != std::string_view::npos)
        return errno_code(EINVAL);
    constexpr std::size_t base = offsetof(sockaddr_un, sun_path);
    if (name.front() == '@') {
        name.remove_prefix(1);
        if (1 + name.size() > sizeof sa.sun_path)
            return errno_code(ENAMETOOLONG);
        std::memcpy(sa.sun_path + 1, name.data(), name.size());
        return static_cast<socklen_t>(base + 1 + name.size());
    }
    if (name.size() + 1 > sizeof sa.sun_path)
        return errno_code(ENAMETOOLONG);
    std::memcpy(sa.sun_path, name.data(), name.size());
    return static_cast<socklen_t>(base + name.size() + 1);
}

std::string from_sockaddr(const sockaddr_un& sa, socklen_t len) {
    constexpr std::size_t base = offsetof(sockaddr_un, sun_path);
    if (len <= base)
        return {};  // unnamed
    // A path of exactly sizeof sun_path bytes has no NUL, and the kernel then reports one
    // byte more than sockaddr_un holds (unix(7), BUGS): never read past sun_path.
    std::size_t n = std::min<std::size_t>(len - base, sizeof sa.sun_path);
    if (sa.sun_path[0] == '\0')
        return "@" + std::string(sa.sun_path + 1, n - 1);
    return std::string(sa.sun_path, ::strnlen(sa.sun_path, n));
}

// A new AF_UNIX stream socket, with `name` in `sa` (its length in `len`) for bind or connect.
io_result<int> open_named(std::string_view name, sockaddr_un& sa, socklen_t& len) noexcept {
    auto l = to_sockaddr(name, sa);
    if (!l)
        return l.error();
    len = *l;
    return socket_ops::open(AF_UNIX, SOCK_STREAM, 0);
}

io_result<std::string> sock_path(int fd, bool peer) {
    sockaddr_un sa{};
    socklen_t len = sizeof sa;
    auto* p = reinterpret_cast<sockaddr*>(&sa);
    if ((peer ? ::getpeername(fd, p, &len) : ::getsockname(fd, p, &len)) < 0)
        return errno_code(errno);
    return from_sockaddr(sa, len);
}

}  // namespace

// ---- unix_stream ----

unix_stream& unix_stream::operator=(unix_stream&& o) noexcept {
    if (this != &o) {
        reset();
        fd_ = std::exchange(o.fd_, -1);
        read_deadline_ = o.read_deadline_;
        write_deadline_ = o.write_deadline_;
    }
    return *this;
}

void unix_stream::reset() noexcept {
    if (fd_ >= 0) {
        socket_ops::shutdown_for_close(fd_);  // ends other tasks' pending calls (see there)
        ::close(std::exchange(fd_, -1));
    }
}

task<io_result<unix_stream>> unix_stream::connect(std::string path, io_control ctl) {
    sockaddr_un sa;
    socklen_t len = 0;
    auto fd = open_named(path, sa, len);
    if (!fd)
        co_return fd.error();
    unix_stream s(*fd);  // closes the socket on every failure path
    int res;
    do {
        res = co_await uring::op(
            [&](io_uring_sqe* sqe) {
                io_uring_prep_connect(sqe, s.fd_, reinterpret_cast<const sockaddr*>(&sa), len);
            },
            ctl);
    } while (res == -EINTR);
    if (res < 0)
        co_return errno_code(-res);
    co_return std::move(s);
}

io_result<std::pair<unix_stream, unix_stream>> unix_stream::pair() noexcept {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
        return errno_code(errno);
    return std::pair<unix_stream, unix_stream>(unix_stream(fds[0]), unix_stream(fds[1]));
}

task<io_result<std::size_t>> unix_stream::read(std::span<std::byte> buf, io_control ctl) const {
    return socket_ops::read(fd_, buf, socket_ops::merge_deadline(std::move(ctl), read_deadline_));
}

task<io_result<void>> unix_stream::read_exact(std::span<std::byte> buf, io_control ctl) const {
    return socket_ops::read_exact(
        fd_, buf, socket_ops::merge_deadline(std::move(ctl), read_deadline_));
}

task<io_result<std::size_t>>
unix_stream::write(std::span<const std::byte> data, io_control ctl) const {
    return socket_ops::write(
        fd_, data, socket_ops::merge_deadline(std::move(ctl), write_deadline_));
}

task<io_result<void>>
unix_stream::write_all(std::span<const std::byte> data, io_control ctl) const {
    return socket_ops::write_all(
        fd_, data, socket_ops::merge_deadline(std::move(ctl), write_deadline_));
}

task<io_result<void>> unix_stream::shutdown(direction how) const {
    int h = how == direction::read ? SHUT_RD : how == direction::write ? SHUT_WR : SHUT_RDWR;
    co_return socket_ops::shutdown(fd_, h);
}

task<io_result<void>> unix_stream::close() {
    int fd = std::exchange(fd_, -1);
    socket_ops::shutdown_for_close(fd);  // ends other tasks' pending calls (see there)
    return socket_ops::close(fd);
}

io_result<std::string> unix_stream::local_path() const {
    return sock_path(fd_, false);
}

io_result<std::string> unix_stream::peer_path() const {
    return sock_path(fd_, true);
}

// ---- unix_listener ----

unix_listener& unix_listener::operator=(unix_listener&& o) noexcept {
    if (this != &o) {
        reset();
        acc_ = std::move(o.acc_);
        path_ = std::move(o.path_);
        unlink_on_close_ = o.unlink_on_close_;
    }
    return *this;
}

int unix_listener::fd() const noexcept {
    return acc_ ? acc_->fd.load(std::memory_order_relaxed) : -1;
}

void unix_listener::reset() noexcept {
    if (!acc_ || !detail::close(*acc_))
        return;  // never opened, or closed already
    // Only a path this listener bound (listen() makes the acceptor after bind succeeded);
    // abstract names have no file.
    if (unlink_on_close_ && !path_.empty() && path_.front() != '@')
        ::unlink(path_.c_str());
}

io_result<unix_listener> unix_listener::listen(std::string_view path, unix_listen_options opts) {
    unix_listener l;  // owns the fd, and so the file, only once bind has created it
    l.path_ = std::string(path);
    l.unlink_on_close_ = opts.unlink_on_close;
    sockaddr_un sa;
    socklen_t len = 0;
    auto fd = open_named(path, sa, len);
    if (!fd)
        return fd.error();
    if (::bind(*fd, reinterpret_cast<const sockaddr*>(&sa), len) < 0) {
        int e = errno;
        ::close(*fd);  // not l's: it would unlink a file this call did not create
        return errno_code(e);
    }
    l.acc_ = std::make_shared<detail::acceptor>(*fd);
    if (::listen(*fd, opts.backlog) < 0)
        return errno_code(errno);  // l's destructor closes and removes the file it bound
    return l;
}

task<io_result<unix_stream>> unix_listener::accept(io_control ctl) const {
    auto c = co_await detail::accept(acc_, std::move(ctl));
    if (!c)
        co_return c.error();
    co_return unix_stream(c->release());
}

}  // namespace gorun::net
