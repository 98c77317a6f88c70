// tcp_stream and tcp_listener (net/tcp_stream.hpp, net/tcp_listener.hpp): connect is a
// uring::op in a coroutine of its own, so the public headers need no liburing and the op's
// io_op and sockaddr live in that coroutine's frame (IO-1); the stream calls are the shared
// loops of socket_ops.hpp (also behind unix_stream), with the connection's deadlines merged in.
//
// tcp_listener is a socket plus the shared acceptor (acceptor.hpp: the acceptor task with its
// multishot accept, and IO-8, who closes the socket); this file adds listen() and TCP_NODELAY
// on each connection a caller takes.
#include <gorun/net/tcp_listener.hpp>
#include <gorun/net/tcp_stream.hpp>
#include <gorun/uring.hpp>

#include "acceptor.hpp"
#include "socket_ops.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

namespace gorun::net {

using socket_ops::errno_code;

namespace {

void set_nodelay_fd(int fd) noexcept {
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

}  // namespace

// ---- tcp_stream ----

tcp_stream& tcp_stream::operator=(tcp_stream&& o) noexcept {
    if (this != &o) {
        reset();
        fd_ = std::exchange(o.fd_, -1);
        read_deadline_ = o.read_deadline_;
        write_deadline_ = o.write_deadline_;
    }
    return *this;
}

void tcp_stream::reset() noexcept {
    if (fd_ >= 0) {
        socket_ops::shutdown_for_close(fd_);  // ends other tasks' pending calls (see there)
        ::close(std::exchange(fd_, -1));
    }
}

task<io_result<tcp_stream>> tcp_stream::connect(address to, io_control ctl) {
    if (to.size() == 0)
        co_return errno_code(EINVAL);
    auto fd = socket_ops::open(to.is_v4() ? AF_INET : AF_INET6, SOCK_STREAM, IPPROTO_TCP);
    if (!fd)
        co_return fd.error();
    tcp_stream s(*fd);  // closes the socket on every failure path
    const void* sa = to.data();
    auto len = static_cast<socklen_t>(to.size());
    int res;
    do {
        res = co_await uring::op(
            [&](io_uring_sqe* sqe) {
                io_uring_prep_connect(sqe, s.fd_, static_cast<const sockaddr*>(sa), len);
            },
            ctl);
    } while (res == -EINTR);
    if (res < 0)
        co_return errno_code(-res);
    set_nodelay_fd(s.fd_);
    co_return std::move(s);
}

task<io_result<std::size_t>> tcp_stream::read(std::span<std::byte> buf, io_control ctl) const {
    return socket_ops::read(fd_, buf, with_deadline(std::move(ctl), read_deadline_));
}

task<io_result<void>> tcp_stream::read_exact(std::span<std::byte> buf, io_control ctl) const {
    return socket_ops::read_exact(fd_, buf, with_deadline(std::move(ctl), read_deadline_));
}

task<io_result<std::size_t>>
tcp_stream::write(std::span<const std::byte> data, io_control ctl) const {
    return socket_ops::write(fd_, data, with_deadline(std::move(ctl), write_deadline_));
}

task<io_result<void>> tcp_stream::write_all(std::span<const std::byte> data, io_control ctl) const {
    return socket_ops::write_all(fd_, data, with_deadline(std::move(ctl), write_deadline_));
}

task<io_result<void>> tcp_stream::shutdown(direction how) const {
    int h = how == direction::read ? SHUT_RD : how == direction::write ? SHUT_WR : SHUT_RDWR;
    co_return socket_ops::shutdown(fd_, h);
}

task<io_result<void>> tcp_stream::close() {
    int fd = std::exchange(fd_, -1);
    socket_ops::shutdown_for_close(fd);  // ends other tasks' pending calls (see there)
    return socket_ops::close(fd);
}

io_result<void> tcp_stream::set_nodelay(bool on) const noexcept {
    int v = on ? 1 : 0;
    if (::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v) < 0)
        return errno_code(errno);
    return {};
}

io_result<address> tcp_stream::local_address() const noexcept {
    return socket_ops::sock_name(fd_, false);
}
io_result<address> tcp_stream::peer_address() const noexcept {
    return socket_ops::sock_name(fd_, true);
}

// ---- tcp_listener ----

tcp_listener& tcp_listener::operator=(tcp_listener&& o) noexcept {
    if (this != &o) {
        reset();
        acc_ = std::move(o.acc_);
    }
    return *this;
}

int tcp_listener::fd() const noexcept {
    return acc_ ? acc_->fd.load(std::memory_order_relaxed) : -1;
}

void tcp_listener::reset() noexcept {
    if (acc_)
        detail::close(*acc_);
}

io_result<tcp_listener> tcp_listener::listen(const address& at, listen_options opts) noexcept {
    if (at.size() == 0)
        return errno_code(EINVAL);
    auto fd = socket_ops::open(at.is_v4() ? AF_INET : AF_INET6, SOCK_STREAM, IPPROTO_TCP);
    if (!fd)
        return fd.error();
    tcp_listener l(std::make_shared<detail::acceptor>(*fd));  // closes it on failure
    int one = 1;
    if (opts.reuse_address && ::setsockopt(*fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
        return errno_code(errno);
    if (opts.reuse_port && ::setsockopt(*fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0)
        return errno_code(errno);
    if (at.is_v6()) {
        int v6only = opts.v6_only ? 1 : 0;
        ::setsockopt(*fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
    }
    if (::bind(*fd, static_cast<const sockaddr*>(at.data()), static_cast<socklen_t>(at.size())) < 0)
        return errno_code(errno);
    if (::listen(*fd, opts.backlog) < 0)
        return errno_code(errno);
    return l;
}

task<io_result<tcp_stream>> tcp_listener::accept(io_control ctl) const {
    auto c = co_await detail::accept(acc_, std::move(ctl));
    if (!c)
        co_return c.error();
    int fd = c->release();
    set_nodelay_fd(fd);
    co_return tcp_stream(fd);
}

io_result<address> tcp_listener::local_address() const noexcept {
    return socket_ops::sock_name(fd(), false);
}

}  // namespace gorun::net
