// udp_socket (net/udp_socket.hpp). send_to and recv_from are coroutines of their own whose
// frames hold the msghdr, the iovec and the peer's sockaddr the SENDMSG/RECVMSG op points at,
// so all three outlive the op, cancelled or not (IO-1). recv passes MSG_TRUNC: for a datagram
// socket the result is then the datagram's real length, which tells truncation apart without
// relying on msg_flags being written back (it is, through io_uring too, since 5.x; either
// signal counts).
#include <gorun/net/udp_socket.hpp>
#include <gorun/uring.hpp>

#include "socket_ops.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace gorun::net {

using socket_ops::errno_code;

udp_socket& udp_socket::operator=(udp_socket&& o) noexcept {
    if (this != &o) {
        reset();
        fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
}

void udp_socket::reset() noexcept {
    if (fd_ >= 0) {
        socket_ops::shutdown_for_close(fd_);  // ends other tasks' pending calls (see there)
        ::close(std::exchange(fd_, -1));
    }
}

io_result<udp_socket> udp_socket::bind(const address& at) noexcept {
    if (at.size() == 0)
        return errno_code(EINVAL);
    auto fd = socket_ops::open(at.is_v4() ? AF_INET : AF_INET6, SOCK_DGRAM, IPPROTO_UDP);
    if (!fd)
        return fd.error();
    udp_socket s(*fd);
    if (::bind(*fd, static_cast<const sockaddr*>(at.data()), static_cast<socklen_t>(at.size())) < 0)
        return errno_code(errno);
    return s;
}

io_result<udp_socket> udp_socket::dial(const address& peer) noexcept {
    if (peer.size() == 0)
        return errno_code(EINVAL);
    auto fd = socket_ops::open(peer.is_v4() ? AF_INET : AF_INET6, SOCK_DGRAM, IPPROTO_UDP);
    if (!fd)
        return fd.error();
    udp_socket s(*fd);
    if (auto r = s.connect(peer); !r)
        return r.error();
    return s;
}

io_result<void> udp_socket::connect(const address& peer) const noexcept {
    int r;
    if (peer.size() == 0) {
        sockaddr unspec{};
        unspec.sa_family = AF_UNSPEC;
        r = ::connect(fd_, &unspec, sizeof unspec);
    } else {
        r = ::connect(
            fd_, static_cast<const sockaddr*>(peer.data()), static_cast<socklen_t>(peer.size()));
    }
    if (r < 0)
        return errno_code(errno);
    return {};
}

namespace {

// The coroutines take the fd by value, as socket_ops' loops do, so the public calls read fd_
// when they are called, as tcp_stream's do. As member coroutines they read it when the task
// first ran, after the caller had moved on: racing a close() or move in another task (TSan),
// and acting on whatever the member held by then.
task<io_result<std::size_t>>
send_to_fd(int fd, std::span<const std::byte> data, address to, io_control ctl) {
    if (to.size() == 0)
        co_return errno_code(EINVAL);
    iovec iov{const_cast<std::byte*>(data.data()), data.size()};
    msghdr msg{};
    msg.msg_name = to.data();
    msg.msg_namelen = static_cast<socklen_t>(to.size());
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    int res;
    do {
        res = co_await uring::op(
            [&](io_uring_sqe* sqe) { io_uring_prep_sendmsg(sqe, fd, &msg, MSG_NOSIGNAL); }, ctl);
    } while (socket_ops::retry(res));
    co_return io_result<std::size_t>::from_res(res);
}

task<io_result<udp_socket::received>>
recv_from_fd(int fd, std::span<std::byte> buf, io_control ctl) {
    sockaddr_storage from{};
    iovec iov{buf.data(), buf.size()};
    msghdr msg{};
    int res;
    do {
        // recvmsg writes msg_namelen and msg_flags back: set them afresh for every try.
        msg = {};
        msg.msg_name = &from;
        msg.msg_namelen = sizeof from;
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        res = co_await uring::op(
            [&](io_uring_sqe* sqe) { io_uring_prep_recvmsg(sqe, fd, &msg, MSG_TRUNC); }, ctl);
    } while (socket_ops::retry(res));
    if (res < 0)
        co_return errno_code(-res);
    // Every datagram on an IPv4/IPv6 socket has a sender; none means the receive was woken by
    // close()'s shutdown (UDP reports that as an empty "datagram"): the socket is closed.
    if (res == 0 && from.ss_family == AF_UNSPEC)
        co_return errno_code(EBADF);
    udp_socket::received r;
    auto len = static_cast<std::size_t>(res);
    r.truncated = len > buf.size() || (msg.msg_flags & MSG_TRUNC) != 0;
    r.size = len < buf.size() ? len : buf.size();
    if (auto a = address::from_native(&from, msg.msg_namelen))
        r.from = *a;
    co_return r;
}

}  // namespace

task<io_result<std::size_t>>
udp_socket::send_to(std::span<const std::byte> data, address to, io_control ctl) const {
    return send_to_fd(fd_, data, to, std::move(ctl));
}

task<io_result<udp_socket::received>>
udp_socket::recv_from(std::span<std::byte> buf, io_control ctl) const {
    return recv_from_fd(fd_, buf, std::move(ctl));
}

task<io_result<std::size_t>>
udp_socket::send(std::span<const std::byte> data, io_control ctl) const {
    return socket_ops::write(fd_, data, std::move(ctl));
}

task<io_result<void>> udp_socket::close() {
    int fd = std::exchange(fd_, -1);
    socket_ops::shutdown_for_close(fd);  // ends other tasks' pending calls (see there)
    return socket_ops::close(fd);
}

io_result<address> udp_socket::local_address() const noexcept {
    return socket_ops::sock_name(fd_, false);
}

io_result<address> udp_socket::peer_address() const noexcept {
    return socket_ops::sock_name(fd_, true);
}

}  // namespace gorun::net
