// See socket_ops.hpp.
#include "socket_ops.hpp"

#include <gorun/uring.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace gorun::net::socket_ops {

task<io_result<std::size_t>> read(int fd, std::span<std::byte> buf, io_control ctl) {
    int res;
    do {
        res = co_await uring::op(
            [&](io_uring_sqe* sqe) {
                io_uring_prep_recv(sqe, fd, buf.data(), op_len(buf.size()), 0);
            },
            ctl);
    } while (retry(res));
    co_return io_result<std::size_t>::from_res(res);
}

task<io_result<void>> read_exact(int fd, std::span<std::byte> buf, io_control ctl) {
    std::size_t done = 0;
    while (done < buf.size()) {
        std::byte* p = buf.data() + done;
        std::size_t want = buf.size() - done;
        int res = co_await uring::op(
            [&](io_uring_sqe* sqe) { io_uring_prep_recv(sqe, fd, p, op_len(want), 0); }, ctl);
        if (retry(res))
            continue;
        if (res < 0)
            co_return errno_code(-res);
        if (res == 0)
            co_return errno_code(ECONNRESET);  // ended before the whole buffer
        done += static_cast<std::size_t>(res);
    }
    co_return io_result<void>{};
}

task<io_result<std::size_t>> write(int fd, std::span<const std::byte> data, io_control ctl) {
    int res;
    do {
        res = co_await uring::op(
            [&](io_uring_sqe* sqe) {
                io_uring_prep_send(sqe, fd, data.data(), op_len(data.size()), MSG_NOSIGNAL);
            },
            ctl);
    } while (retry(res));
    co_return io_result<std::size_t>::from_res(res);
}

task<io_result<void>> write_all(int fd, std::span<const std::byte> data, io_control ctl) {
    std::size_t done = 0;
    while (done < data.size()) {
        const std::byte* p = data.data() + done;
        std::size_t want = data.size() - done;
        int res = co_await uring::op(
            [&](io_uring_sqe* sqe) { io_uring_prep_send(sqe, fd, p, op_len(want), MSG_NOSIGNAL); },
            ctl);
        if (retry(res))
            continue;
        if (res < 0)
            co_return errno_code(-res);
        done += static_cast<std::size_t>(res);
    }
    co_return io_result<void>{};
}

io_result<void> shutdown(int fd, int how) noexcept {
    // shutdown(2) on a socket never blocks; a ring op would cost a round trip for nothing.
    if (::shutdown(fd, how) < 0)
        return errno_code(errno);
    return {};
}

void shutdown_for_close(int fd) noexcept {
    if (fd >= 0)
        ::shutdown(fd, SHUT_RDWR);  // ENOTCONN (never connected, peer gone) is fine here
}

task<io_result<void>> close(int fd) {
    if (fd < 0)
        co_return errno_code(EBADF);
    int res = co_await uring::op([&](io_uring_sqe* sqe) { io_uring_prep_close(sqe, fd); });
    co_return io_result<void>::from_res(res);
}

io_result<int> open(int domain, int type, int protocol) noexcept {
    int fd = ::socket(domain, type | SOCK_CLOEXEC, protocol);
    if (fd < 0)
        return errno_code(errno);
    return fd;
}

io_result<address> sock_name(int fd, bool peer) noexcept {
    alignas(8) unsigned char buf[address::capacity];
    socklen_t len = sizeof buf;
    auto* sa = reinterpret_cast<sockaddr*>(buf);
    int r = peer ? ::getpeername(fd, sa, &len) : ::getsockname(fd, sa, &len);
    if (r < 0)
        return errno_code(errno);
    if (auto a = address::from_native(buf, len))
        return *a;
    return errno_code(EAFNOSUPPORT);
}

}  // namespace gorun::net::socket_ops
