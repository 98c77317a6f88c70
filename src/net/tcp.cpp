// tcp_stream and tcp_listener (net/tcp_stream.hpp, net/tcp_listener.hpp): connect is a
// uring::op in a coroutine of its own, so the public headers need no liburing and the op's
// io_op and sockaddr live in that coroutine's frame (IO-1); the stream calls are the shared
// loops of socket_ops.hpp (also behind unix_stream), with the connection's deadlines merged in.
//
// The listener's acceptor (docs/design/io.md, "tcp_listener: one multishot accept")
// - The first accept() starts one acceptor task per listener (`started`, exchanged once; close()
//   exchanges it too, so exactly one of them owns the shutdown of the channel when no task
//   ever ran). The task keeps a multishot accept armed (uring::multishot: its stream lives in
//   the task's frame, MS-4) and sends each connection into `ready`, a buffered channel that
//   accept() callers receive from in a select with their own stop token and deadline — so a
//   caller that gives up withdraws without taking a connection (SEL-1) and the armed accept
//   serves the others. When `ready` is full the task waits; completions queue in the stream.
// - The kernel ends a multishot accept on an error. EMFILE/ENFILE/ENOBUFS/ENOMEM: sleep 5 ms
//   doubling to 1 s, then re-arm (IO-5: the connection stays in the backlog, no busy loop).
//   EINTR/EAGAIN/ECONNABORTED: re-arm. EINVAL before any connection on a listener not closed:
//   the kernel has no multishot accept (pre-5.19): single accepts from then on. Other errors
//   go to one accept() caller, then the same backoff (a persistent error cannot spin).
// - close() (any thread): fd -> -1 (accept() sees EBADF), request_stop (cancels the armed
//   accept and a waiting send through the cancel protocol, IO-1), shutdown + close of the
//   socket — synchronous, so the process's fd count drops at once; an armed io_uring accept
//   holds its own file reference and ends with ECANCELED or EINVAL. The task then closes
//   `ready` and drains it: connections accepted and never taken are closed (their tcp_stream
//   destructors), a little after close() returns. At runtime shutdown the task's frame is
//   destroyed after its stream was drained (IO-2); `ready` goes with the last reference.
// - The socket number is read when an accept is armed, and the SQE reaches the kernel at the
//   worker's next flush: a close() in between makes that accept fail (EBADF) or, if the number
//   was reused meanwhile, act on the new file — the same window as one accept op per call had.
// Rejected: one accept op per accept() call (one SQE and CQE per connection; the multishot
// needs one per listener), a multi-waiter queue inside io_stream (the channel already has
// waiters with stop tokens and deadlines, and select's withdrawal rules).
#include <gorun/channel.hpp>
#include <gorun/go.hpp>
#include <gorun/net/tcp_listener.hpp>
#include <gorun/net/tcp_stream.hpp>
#include <gorun/select.hpp>
#include <gorun/uring.hpp>

#include "socket_ops.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <memory>
#include <stop_token>

namespace gorun::net {

using socket_ops::errno_code;

namespace detail {

namespace {
std::atomic<bool> force_single_shot{false};
}  // namespace

void tcp_accept_force_single_shot(bool on) noexcept {
    force_single_shot.store(on, std::memory_order_relaxed);
}

struct tcp_acceptor {
    explicit tcp_acceptor(int s)
        : fd(s) {}
    // The listening socket; -1 once closed (close() exchanges it, once).
    std::atomic<int> fd;
    std::atomic<bool> started{false};
    std::stop_source stop;
    channel<io_result<tcp_stream>> ready{64};
};

}  // namespace detail

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
    if (fd_ >= 0)
        ::close(std::exchange(fd_, -1));
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
    return socket_ops::close(std::exchange(fd_, -1));
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

namespace {

// Hands one accepted connection (or an error) to the accept() callers. False when stopped
// first; the value is then destroyed (a connection closed).
task<bool> hand_over(detail::tcp_acceptor& a, io_result<tcp_stream> r, std::stop_token stop) {
    if (stop.stop_requested())
        co_return false;
    auto s = co_await select(send(a.ready, std::move(r)), cancelled(stop));
    co_return s.index == 0;
}

bool backs_off(int res) noexcept {
    return res == -EMFILE || res == -ENFILE || res == -ENOBUFS || res == -ENOMEM;
}

task<> run_acceptor(std::shared_ptr<detail::tcp_acceptor> a) {
    using namespace std::chrono_literals;
    std::stop_token stop = a->stop.get_token();
    std::chrono::milliseconds backoff = 5ms;
    bool multishot_ok = !detail::force_single_shot.load(std::memory_order_relaxed);
    for (;;) {
        int sock = a->fd.load(std::memory_order_relaxed);
        if (sock < 0 || stop.stop_requested())
            break;
        int end_res = 0;
        if (multishot_ok) {
            bool got_any = false;
            uring::multishot conns(
                uring::fd_results,
                [&](io_uring_sqe* sqe) {
                    io_uring_prep_multishot_accept(sqe, sock, nullptr, nullptr, SOCK_CLOEXEC);
                },
                {stop});
            while (auto c = co_await conns.next()) {
                if (c->res >= 0) {
                    got_any = true;
                    backoff = 5ms;
                    set_nodelay_fd(c->res);
                    (void)co_await hand_over(*a, tcp_stream(c->res), stop);
                } else {
                    end_res = c->res;  // only the final completion carries an error
                }
            }
            if (end_res == -EINVAL && !got_any && !stop.stop_requested()
                && a->fd.load(std::memory_order_relaxed) >= 0) {
                multishot_ok = false;  // pre-5.19: no IORING_ACCEPT_MULTISHOT
                continue;
            }
        } else {
            int res = co_await uring::op_returning_fd(
                [&](io_uring_sqe* sqe) {
                    io_uring_prep_accept(sqe, sock, nullptr, nullptr, SOCK_CLOEXEC);
                },
                {stop});
            if (res >= 0) {
                backoff = 5ms;
                set_nodelay_fd(res);
                (void)co_await hand_over(*a, tcp_stream(res), stop);
                continue;
            }
            end_res = res;
        }
        if (stop.stop_requested())
            break;
        if (end_res >= 0 || socket_ops::retry(end_res) || end_res == -ECONNABORTED)
            continue;  // re-arm (a connection reset while queued is not the listener's error)
        if (!backs_off(end_res))
            (void)co_await hand_over(*a, errno_code(-end_res), stop);
        // IO-5: the connection stays queued in the backlog; re-arm later without spinning.
        (void)co_await select(after(backoff), cancelled(stop));
        backoff = std::min<std::chrono::milliseconds>(backoff * 2, 1s);
    }
    // Wakes the callers still waiting (EBADF) and closes what nobody took.
    a->ready.close();
    while (a->ready.try_recv().status == recv_status::ok) {
    }
}

}  // namespace

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
    detail::tcp_acceptor* a = acc_.get();
    if (!a)
        return;
    int sock = a->fd.exchange(-1, std::memory_order_acq_rel);
    if (sock < 0)
        return;  // closed already
    a->stop.request_stop();
    // Shut down first: an armed io_uring accept holds its own reference to the socket, so
    // close alone would not end it.
    socket_ops::close_listener(sock);
    if (!a->started.exchange(true, std::memory_order_acq_rel)) {
        // No acceptor task ran and none will (accept() exchanges `started` too): wake nobody,
        // but make later receives see the end.
        a->ready.close();
    }
}

io_result<tcp_listener> tcp_listener::listen(const address& at, listen_options opts) noexcept {
    if (at.size() == 0)
        return errno_code(EINVAL);
    auto fd = socket_ops::open(at.is_v4() ? AF_INET : AF_INET6, SOCK_STREAM, IPPROTO_TCP);
    if (!fd)
        return fd.error();
    tcp_listener l(std::make_shared<detail::tcp_acceptor>(*fd));  // closes it on failure
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
    std::shared_ptr<detail::tcp_acceptor> a = acc_;
    if (!a || a->fd.load(std::memory_order_relaxed) < 0)
        co_return errno_code(EBADF);
    if (ctl.stop.stop_requested())
        co_return errno_code(ECANCELED);
    bool has_deadline = ctl.deadline != clock::time_point::max();
    if (has_deadline && ctl.deadline <= clock::now())
        co_return errno_code(ETIMEDOUT);
    if (!a->started.exchange(true, std::memory_order_acq_rel))
        go(run_acceptor, a);
    std::optional<io_result<tcp_stream>> got;
    if (has_deadline) {
        auto r = co_await select(recv(a->ready), cancelled(ctl.stop), until(ctl.deadline));
        if (r.index == 1)
            co_return errno_code(ECANCELED);
        if (r.index == 2)
            co_return errno_code(ETIMEDOUT);
        got = std::move(r.template get<0>());
    } else {
        auto r = co_await select(recv(a->ready), cancelled(ctl.stop));
        if (r.index == 1)
            co_return errno_code(ECANCELED);
        got = std::move(r.template get<0>());
    }
    if (!got)
        co_return errno_code(EBADF);  // closed
    co_return std::move(*got);
}

io_result<address> tcp_listener::local_address() const noexcept {
    return socket_ops::sock_name(fd(), false);
}

}  // namespace gorun::net
