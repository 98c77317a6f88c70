// gorun/net/udp_socket.hpp — a UDP socket whose sends and receives suspend the task, not the
// thread.
//
//     auto s = gorun::net::udp_socket::bind(*gorun::net::address::parse("127.0.0.1:0")).value();
//     std::array<std::byte, 1500> buf;
//     auto d = co_await s.recv_from(buf, gorun::clock::now() + 1s);   // io_result<received>
//     if (d && !d->truncated)
//         co_await s.send_to(std::span(buf.data(), d->size), d->from);  // echo it back
//
// bind(), dial() and connect() are immediate (socket, bind and connect do not block for UDP).
// send_to/recv_from are one IORING_OP_SENDMSG/RECVMSG each, with the msghdr, iovec and peer
// address in the call's coroutine frame (IO-1); send/recv on a connected socket likewise.
// A datagram is sent whole or not at all (EMSGSIZE when it is too large). A datagram longer
// than the receive buffer is cut to the buffer and the rest discarded, as recvmsg(2) does;
// received::truncated says so (Go's ReadMsgUDP reports it as MSG_TRUNC in its flags).
// EINTR and EAGAIN are retried inside (IO-6). Every call that suspends takes an io_control:
// a deadline ends it with ETIMEDOUT, a stop token with ECANCELED, once the kernel has let go
// of the buffer.
#pragma once

#include <gorun/io_control.hpp>
#include <gorun/io_result.hpp>
#include <gorun/net/address.hpp>
#include <gorun/task.hpp>

#include <cstddef>
#include <span>
#include <string_view>
#include <utility>

namespace gorun::net {

/// One UDP socket, IPv4 or IPv6 (owns it).
///
/// Suspends: the task<> calls do; the others do not. Thread-safety: sends and receives may
/// run concurrently in several tasks (each datagram is one op; the kernel keeps them whole).
/// On shutdown: calls in flight are cancelled; the destructor closes the socket.
class udp_socket {
public:
    /// What recv_from / recv got: `size` bytes were stored in the buffer, sent by `from`.
    /// `truncated` is true when the datagram was longer than the buffer: its tail is lost.
    struct received {
        std::size_t size = 0;
        address from;
        bool truncated = false;
    };

    udp_socket() noexcept = default;
    /// Takes ownership of a UDP socket.
    explicit udp_socket(int fd) noexcept
        : fd_(fd) {}
    udp_socket(udp_socket&& o) noexcept
        : fd_(std::exchange(o.fd_, -1)) {}
    udp_socket& operator=(udp_socket&& o) noexcept;
    udp_socket(const udp_socket&) = delete;
    udp_socket& operator=(const udp_socket&) = delete;
    /// Shuts the socket down and closes it with close(2) (immediate for a socket); pending
    /// calls of other tasks end (see close()).
    ~udp_socket() { reset(); }

    /// A socket bound to `at` (port 0 picks a free port: read it from local_address()).
    /// Suspends: no. Errors: EADDRINUSE, EACCES, EADDRNOTAVAIL, EMFILE, EINVAL (empty address).
    static io_result<udp_socket> bind(const address& at) noexcept;
    /// A socket of `peer`'s family, connected to it (the kernel picks the local address and
    /// port). Suspends: no. Errors: ENETUNREACH, EMFILE, EINVAL (empty address), ...
    static io_result<udp_socket> dial(const address& peer) noexcept;

    /// Sets the default peer: send() goes there, and only its datagrams are received.
    /// An empty address dissolves the association (AF_UNSPEC). Suspends: no (connect(2)
    /// on UDP only records the peer). Errors: EAFNOSUPPORT (wrong family), ENETUNREACH, ...
    io_result<void> connect(const address& peer) const noexcept;

    /// Sends `data` as one datagram to `to`; returns the bytes sent (all of them).
    /// Errors: EMSGSIZE (larger than the protocol allows), EAFNOSUPPORT (IPv6 destination on
    /// an IPv4 socket), ENETUNREACH, ECONNREFUSED (an earlier datagram drew an ICMP refusal),
    /// ETIMEDOUT/ECANCELED per `ctl`.
    [[nodiscard]] task<io_result<std::size_t>>
    send_to(std::span<const std::byte> data, address to, io_control ctl = {}) const;
    [[nodiscard]] task<io_result<std::size_t>>
    send_to(std::string_view data, address to, io_control ctl = {}) const {
        return send_to(std::as_bytes(std::span(data.data(), data.size())), to, std::move(ctl));
    }
    /// Waits for one datagram and stores it (up to buf.size() bytes) in `buf`.
    /// Errors: ETIMEDOUT/ECANCELED per `ctl`; ECONNREFUSED on a connected socket whose peer
    /// refused an earlier datagram; EBADF when the socket is closed meanwhile.
    [[nodiscard]] task<io_result<received>>
    recv_from(std::span<std::byte> buf, io_control ctl = {}) const;
    [[nodiscard]] task<io_result<received>>
    recv_from(std::span<char> buf, io_control ctl = {}) const {
        return recv_from(std::as_writable_bytes(buf), std::move(ctl));
    }

    /// send_to the connected peer. Errors: EDESTADDRREQ when not connected; as send_to.
    [[nodiscard]] task<io_result<std::size_t>>
    send(std::span<const std::byte> data, io_control ctl = {}) const;
    [[nodiscard]] task<io_result<std::size_t>>
    send(std::string_view data, io_control ctl = {}) const {
        return send(std::as_bytes(std::span(data.data(), data.size())), std::move(ctl));
    }
    /// recv_from on a connected socket (received::from is the peer).
    [[nodiscard]] task<io_result<received>>
    recv(std::span<std::byte> buf, io_control ctl = {}) const {
        return recv_from(buf, std::move(ctl));
    }

    /// Closes the socket through the ring; closed afterwards either way. Like Go's Close, it
    /// ends calls that other tasks have pending on the socket (a pending receive returns
    /// EBADF): the socket is shut down first, since an op in flight keeps it open (and its
    /// port bound) in the kernel. The destructor and move-assignment do the same. A call made
    /// after close() began gets EBADF, or acts on whatever file reuses the number: stop
    /// making calls before closing.
    [[nodiscard]] task<io_result<void>> close();

    io_result<address> local_address() const noexcept;
    /// The connected peer. Errors: ENOTCONN when not connected.
    io_result<address> peer_address() const noexcept;

    bool is_open() const noexcept { return fd_ >= 0; }
    int fd() const noexcept { return fd_; }
    /// Gives up ownership of the socket.
    int release() noexcept { return std::exchange(fd_, -1); }

private:
    void reset() noexcept;
    int fd_ = -1;
};

}  // namespace gorun::net
