// tcp_stream and tcp_listener (net/tcp_stream.hpp, net/tcp_listener.hpp): each call is one
// uring::op (or a loop of them) in a coroutine of its own, so the public headers need no
// liburing and the op's io_op and buffer pointers live in that coroutine's frame (IO-1).
#include <gorun/net/tcp_listener.hpp>
#include <gorun/net/tcp_stream.hpp>
#include <gorun/time.hpp>
#include <gorun/uring.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

namespace gorun::net {

namespace {

io_result<void> errno_result(int e) noexcept {
    return std::error_code(e, std::generic_category());
}

void set_nodelay_fd(int fd) noexcept {
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// EINTR and EAGAIN from the loop are retried, never returned (IO-6).
bool retry(int res) noexcept {
    return res == -EINTR || res == -EAGAIN;
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
    if (fd_ >= 0)
        ::close(std::exchange(fd_, -1));
}

task<io_result<tcp_stream>> tcp_stream::connect(address to, io_control ctl) {
    if (to.size() == 0)
        co_return std::error_code(EINVAL, std::generic_category());
    int domain = to.is_v4() ? AF_INET : AF_INET6;
    int fd = ::socket(domain, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
    if (fd < 0)
        co_return std::error_code(errno, std::generic_category());
    tcp_stream s(fd);  // closes the socket on every failure path
    const void* sa = to.data();
    auto len = static_cast<socklen_t>(to.size());
    int res;
    do {
        res = co_await uring::op(
            [&](io_uring_sqe* sqe) {
                io_uring_prep_connect(sqe, fd, static_cast<const sockaddr*>(sa), len);
            },
            ctl);
    } while (res == -EINTR);
    if (res < 0)
        co_return std::error_code(-res, std::generic_category());
    set_nodelay_fd(fd);
    co_return std::move(s);
}

task<io_result<std::size_t>> tcp_stream::read(std::span<std::byte> buf, io_control ctl) const {
    ctl = with_deadline(std::move(ctl), read_deadline_);
    int fd = fd_;
    int res;
    do {
        res = co_await uring::op(
            [&](io_uring_sqe* sqe) { io_uring_prep_recv(sqe, fd, buf.data(), buf.size(), 0); },
            ctl);
    } while (retry(res));
    co_return io_result<std::size_t>::from_res(res);
}

task<io_result<void>> tcp_stream::read_exact(std::span<std::byte> buf, io_control ctl) const {
    ctl = with_deadline(std::move(ctl), read_deadline_);
    int fd = fd_;
    std::size_t done = 0;
    while (done < buf.size()) {
        std::byte* p = buf.data() + done;
        std::size_t want = buf.size() - done;
        int res = co_await uring::op(
            [&](io_uring_sqe* sqe) { io_uring_prep_recv(sqe, fd, p, want, 0); }, ctl);
        if (retry(res))
            continue;
        if (res < 0)
            co_return errno_result(-res);
        if (res == 0)
            co_return errno_result(ECONNRESET);  // ended before the whole buffer
        done += static_cast<std::size_t>(res);
    }
    co_return io_result<void>{};
}

task<io_result<std::size_t>>
tcp_stream::write(std::span<const std::byte> data, io_control ctl) const {
    ctl = with_deadline(std::move(ctl), write_deadline_);
    int fd = fd_;
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

task<io_result<void>> tcp_stream::write_all(std::span<const std::byte> data, io_control ctl) const {
    ctl = with_deadline(std::move(ctl), write_deadline_);
    int fd = fd_;
    std::size_t done = 0;
    while (done < data.size()) {
        const std::byte* p = data.data() + done;
        std::size_t want = data.size() - done;
        int res = co_await uring::op(
            [&](io_uring_sqe* sqe) { io_uring_prep_send(sqe, fd, p, want, MSG_NOSIGNAL); }, ctl);
        if (retry(res))
            continue;
        if (res < 0)
            co_return errno_result(-res);
        done += static_cast<std::size_t>(res);
    }
    co_return io_result<void>{};
}

task<io_result<void>> tcp_stream::shutdown(direction how) const {
    int h = how == direction::read ? SHUT_RD : how == direction::write ? SHUT_WR : SHUT_RDWR;
    // shutdown(2) on a socket never blocks; a ring op would cost a round trip for nothing.
    if (::shutdown(fd_, h) < 0)
        co_return errno_result(errno);
    co_return io_result<void>{};
}

task<io_result<void>> tcp_stream::close() {
    int fd = std::exchange(fd_, -1);
    if (fd < 0)
        co_return errno_result(EBADF);
    int res = co_await uring::op([&](io_uring_sqe* sqe) { io_uring_prep_close(sqe, fd); });
    co_return io_result<void>::from_res(res);
}

io_result<void> tcp_stream::set_nodelay(bool on) const noexcept {
    int v = on ? 1 : 0;
    if (::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v) < 0)
        return errno_result(errno);
    return {};
}

namespace {
io_result<address> sock_name(int fd, bool peer) noexcept {
    alignas(8) unsigned char buf[address::capacity];
    socklen_t len = sizeof buf;
    auto* sa = reinterpret_cast<sockaddr*>(buf);
    int r = peer ? ::getpeername(fd, sa, &len) : ::getsockname(fd, sa, &len);
    if (r < 0)
        return std::error_code(errno, std::generic_category());
    if (auto a = address::from_native(buf, len))
        return *a;
    return std::error_code(EAFNOSUPPORT, std::generic_category());
}
}  // namespace

io_result<address> tcp_stream::local_address() const noexcept {
    return sock_name(fd_, false);
}
io_result<address> tcp_stream::peer_address() const noexcept {
    return sock_name(fd_, true);
}

// ---- tcp_listener ----

tcp_listener& tcp_listener::operator=(tcp_listener&& o) noexcept {
    if (this != &o) {
        reset();
        fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
}

void tcp_listener::reset() noexcept {
    if (fd_ >= 0) {
        int fd = std::exchange(fd_, -1);
        // Wakes accepts waiting in the kernel (they fail with EINVAL); close alone would not:
        // an in-flight io_uring accept holds its own reference to the socket.
        ::shutdown(fd, SHUT_RDWR);
        ::close(fd);
    }
}

io_result<tcp_listener> tcp_listener::listen(const address& at, listen_options opts) noexcept {
    if (at.size() == 0)
        return std::error_code(EINVAL, std::generic_category());
    int fd = ::socket(at.is_v4() ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
    if (fd < 0)
        return std::error_code(errno, std::generic_category());
    tcp_listener l(fd);
    int one = 1;
    if (opts.reuse_address && ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
        return std::error_code(errno, std::generic_category());
    if (opts.reuse_port && ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0)
        return std::error_code(errno, std::generic_category());
    if (at.is_v6()) {
        int v6only = opts.v6_only ? 1 : 0;
        ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
    }
    if (::bind(fd, static_cast<const sockaddr*>(at.data()), static_cast<socklen_t>(at.size())) < 0)
        return std::error_code(errno, std::generic_category());
    if (::listen(fd, opts.backlog) < 0)
        return std::error_code(errno, std::generic_category());
    return std::move(l);
}

task<io_result<tcp_stream>> tcp_listener::accept(io_control ctl) const {
    using namespace std::chrono_literals;
    auto backoff = 5ms;
    int fd = fd_;
    for (;;) {
        int res = co_await uring::op_returning_fd(
            [&](io_uring_sqe* sqe) {
                io_uring_prep_accept(sqe, fd, nullptr, nullptr, SOCK_CLOEXEC);
            },
            ctl);
        if (res >= 0) {
            set_nodelay_fd(res);
            co_return tcp_stream(res);
        }
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
                co_return std::error_code(ECANCELED, std::generic_category());
            if (ctl.deadline != clock::time_point::max() && clock::now() >= ctl.deadline)
                co_return std::error_code(ETIMEDOUT, std::generic_category());
            backoff = std::min<std::chrono::milliseconds>(backoff * 2, 1s);
            continue;
        }
        co_return std::error_code(-res, std::generic_category());
    }
}

io_result<address> tcp_listener::local_address() const noexcept {
    return sock_name(fd_, false);
}

}  // namespace gorun::net
