// See socket_ops.hpp.
#include "socket_ops.hpp"

#include <gorun/uring.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

namespace gorun::net::socket_ops {

task<io_result<std::size_t>> read(int fd, std::span<std::byte> buf, io_control ctl) {
    int res;
    do {
        res = co_await uring::op(
            [&](io_uring_sqe* sqe) { io_uring_prep_recv(sqe, fd, buf.data(), buf.size(), 0); },
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
            [&](io_uring_sqe* sqe) { io_uring_prep_recv(sqe, fd, p, want, 0); }, ctl);
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
                io_uring_prep_send(sqe, fd, data.data(), data.size(), MSG_NOSIGNAL);
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
            [&](io_uring_sqe* sqe) { io_uring_prep_send(sqe, fd, p, want, MSG_NOSIGNAL); }, ctl);
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

task<io_result<int>> accept(int listen_fd, io_control ctl) {
    using namespace std::chrono_literals;
    auto backoff = 5ms;
    for (;;) {
        int res = co_await uring::op_returning_fd(
            [&](io_uring_sqe* sqe) {
                io_uring_prep_accept(sqe, listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
            },
            ctl);
        if (res >= 0)
            co_return res;
        if (retry(res) || res == -ECONNABORTED)
            continue;  // a connection reset while queued is not the listener's error
        if (res == -EMFILE || res == -ENFILE || res == -ENOBUFS || res == -ENOMEM) {
            // IO-5: the connection stays queued; try again later without spinning. The sleep
            // obeys ctl: a stop or a deadline ends the wait.
            auto until = std::min(clock::now() + backoff, ctl.deadline);
            int slept = co_await uring::op(
                [&, ts = __kernel_timespec{}](io_uring_sqe* sqe) mutable {
                    auto ns =
                        std::chrono::duration_cast<std::chrono::nanoseconds>(until - clock::now())
                            .count();
                    ns = std::max<long long>(ns, 0);
                    ts.tv_sec = ns / 1'000'000'000;
                    ts.tv_nsec = ns % 1'000'000'000;
                    io_uring_prep_timeout(sqe, &ts, 0, 0);
                },
                ctl);
            (void)slept;
            if (ctl.stop.stop_requested())
                co_return errno_code(ECANCELED);
            if (ctl.deadline != clock::time_point::max() && clock::now() >= ctl.deadline)
                co_return errno_code(ETIMEDOUT);
            backoff = std::min<std::chrono::milliseconds>(backoff * 2, 1s);
            continue;
        }
        co_return errno_code(-res);
    }
}

void close_listener(int fd) noexcept {
    if (fd < 0)
        return;
    ::shutdown(fd, SHUT_RDWR);
    ::close(fd);
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
