// socket_ops — the socket code that tcp.cpp, unix.cpp and udp.cpp share: the read/write loops
// over a connected stream fd (tcp_stream and unix_stream are thin wrappers around these), close
// through the ring, and small helpers. The listeners' accept is acceptor.hpp's.
//
// Design: every loop is a coroutine of its own taking the fd by value, so its uring::op's state
// and the buffer pointers live in that frame until the kernel's completion (IO-1), and the
// public classes need no liburing. The loops retry EINTR and EAGAIN (IO-6) and send with
// MSG_NOSIGNAL (no SIGPIPE). Deadlines are the caller's business: a class with Go-style
// per-connection deadlines merges them into the io_control first (merge_deadline).
//
// Rejected: a common public base class for tcp_stream and unix_stream (it would move their
// documented calls into a detail header and change tcp_stream's published layout for nothing).
#pragma once

#include <gorun/io_control.hpp>
#include <gorun/io_result.hpp>
#include <gorun/net/address.hpp>
#include <gorun/task.hpp>
#include <gorun/time.hpp>

#include "io/op_len.hpp"

#include <cstddef>
#include <span>
#include <system_error>

namespace gorun::net::socket_ops {

inline std::error_code errno_code(int e) noexcept {
    return {e, std::generic_category()};
}

// EINTR and EAGAIN from the loop are retried, never returned (IO-6).
inline bool retry(int res) noexcept {
    return res == -EINTR || res == -EAGAIN;
}

// The most one recv/send SQE is given (io/op_len.hpp says why).
using gorun::detail::max_op_len;
using gorun::detail::op_len;

// `ctl` with its deadline moved up to `d` if `d` is earlier.
inline io_control merge_deadline(io_control ctl, clock::time_point d) noexcept {
    if (d < ctl.deadline)
        ctl.deadline = d;
    return ctl;
}

// One recv: what is there, at least one byte (0: end of stream).
task<io_result<std::size_t>> read(int fd, std::span<std::byte> buf, io_control ctl);
// recv until buf is full; ECONNRESET if the stream ends first.
task<io_result<void>> read_exact(int fd, std::span<std::byte> buf, io_control ctl);
// One send (MSG_NOSIGNAL); returns what the kernel took.
task<io_result<std::size_t>> write(int fd, std::span<const std::byte> data, io_control ctl);
// send until all of data is gone; the first error ends it.
task<io_result<void>> write_all(int fd, std::span<const std::byte> data, io_control ctl);
// shutdown(2) with SHUT_RD/SHUT_WR/SHUT_RDWR; immediate (it never blocks on a socket).
io_result<void> shutdown(int fd, int how) noexcept;
// close through the ring (EBADF for fd < 0).
task<io_result<void>> close(int fd);
// Before a stream's close (close(), move-assignment, destructor): shutdown(SHUT_RDWR), so that
// reads and writes other tasks have pending on the socket end (0 and EPIPE), as Go's Close
// ends them. A pending io_uring op holds its own reference to the file: closing the number
// alone neither wakes it nor releases the connection, so the calls hung and the peer never
// saw the end until it sent or closed itself. Nothing for fd < 0.
void shutdown_for_close(int fd) noexcept;

// A new socket (SOCK_CLOEXEC added), or the errno.
io_result<int> open(int domain, int type, int protocol) noexcept;
// getsockname/getpeername of an IPv4/IPv6 socket.
io_result<address> sock_name(int fd, bool peer) noexcept;

}  // namespace gorun::net::socket_ops
