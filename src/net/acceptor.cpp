// The listeners' acceptor task and close (acceptor.hpp has the design and IO-8).
#include "acceptor.hpp"

#include <gorun/go.hpp>
#include <gorun/net/tcp_listener.hpp>
#include <gorun/select.hpp>
#include <gorun/time.hpp>
#include <gorun/uring.hpp>

#include "socket_ops.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

namespace gorun::net::detail {

namespace {
std::atomic<bool> force_single_shot{false};
std::atomic<void (*)(int)> on_arm{nullptr};
}  // namespace

void tcp_accept_force_single_shot(bool on) noexcept {
    force_single_shot.store(on, std::memory_order_relaxed);
}

void listener_on_arm_for_test(void (*hook)(int sock)) noexcept {
    on_arm.store(hook, std::memory_order_relaxed);
}

accepted_fd& accepted_fd::operator=(accepted_fd&& o) noexcept {
    if (this != &o) {
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
}

accepted_fd::~accepted_fd() {
    if (fd_ >= 0)
        ::close(fd_);
}

namespace {

// IO-8: a task's hold on `sock`; false once the listener is closed.
bool hold(acceptor& a) noexcept {
    unsigned u = a.uses.load();
    do {
        if (u & acceptor::closed_bit)
            return false;
    } while (!a.uses.compare_exchange_weak(u, u + 1));
    return true;
}

// IO-8: the last user of a closed listener closes the number.
void release(acceptor& a) noexcept {
    if (a.uses.fetch_sub(1) == (acceptor::closed_bit | 1u))
        ::close(a.sock);
}

using ready_channel = channel<io_result<accepted_fd>>;

// Releases the task's hold when its last armed accept has ended: explicitly at the end of the
// loop, or when the frame is destroyed at runtime shutdown (declared before the stream, so
// destroyed after it was drained, IO-2). In that second case the task's channel may hold
// waiters of destroyed frames: the listener gets a fresh one for the next runtime (acceptor.hpp).
struct hold_guard {
    acceptor* a;
    const ready_channel* mine;  // the task's own handle (a parameter: outlives the guard)
    void done() noexcept {
        if (a)
            release(*std::exchange(a, nullptr));
    }
    ~hold_guard() {
        if (!a)
            return;
        {
            std::lock_guard lock(a->mu);
            if (a->ready == *mine) {  // not replaced by an earlier run's guard
                a->ready = ready_channel(64);
                a->started = false;
            }
        }
        done();
    }
};

// Hands one accepted connection (or an error) to the accept() callers. False when stopped
// first; the value is then destroyed (a connection closed).
task<bool> hand_over(ready_channel& ready, io_result<accepted_fd> r, std::stop_token stop) {
    if (stop.stop_requested())
        co_return false;
    auto s = co_await select(send(ready, std::move(r)), cancelled(stop));
    co_return s.index == 0;
}

bool backs_off(int res) noexcept {
    return res == -EMFILE || res == -ENFILE || res == -ENOBUFS || res == -ENOMEM;
}

void armed(int sock) {
    if (auto hook = on_arm.load(std::memory_order_relaxed))
        hook(sock);
}

// Runs holding `sock` (hold() succeeded before go()), feeding `ready`, the listener's channel
// when the task started.
task<> run_acceptor(std::shared_ptr<acceptor> a, ready_channel ready) {
    using namespace std::chrono_literals;
    hold_guard held{a.get(), &ready};
    std::stop_token stop = a->stop.get_token();
    std::chrono::milliseconds backoff = 5ms;
    bool multishot_ok = !force_single_shot.load(std::memory_order_relaxed);
    const int sock = a->sock;
    for (;;) {
        if (a->fd.load() < 0 || stop.stop_requested())
            break;
        int end_res = 0;
        if (multishot_ok) {
            bool got_any = false;
            uring::multishot conns(
                uring::fd_results,
                [&](io_uring_sqe* sqe) {
                    io_uring_prep_multishot_accept(sqe, sock, nullptr, nullptr, SOCK_CLOEXEC);
                    armed(sock);
                },
                {stop});
            while (auto c = co_await conns.next()) {
                if (c->res >= 0) {
                    got_any = true;
                    backoff = 5ms;
                    (void)co_await hand_over(ready, accepted_fd(c->res), stop);
                } else {
                    end_res = c->res;  // only the final completion carries an error
                }
            }
            if (end_res == -EINVAL && !got_any && !stop.stop_requested() && a->fd.load() >= 0) {
                multishot_ok = false;  // pre-5.19: no IORING_ACCEPT_MULTISHOT
                continue;
            }
        } else {
            int res = co_await uring::op_returning_fd(
                [&](io_uring_sqe* sqe) {
                    io_uring_prep_accept(sqe, sock, nullptr, nullptr, SOCK_CLOEXEC);
                    armed(sock);
                },
                {stop});
            if (res >= 0) {
                backoff = 5ms;
                (void)co_await hand_over(ready, accepted_fd(res), stop);
                continue;
            }
            end_res = res;
        }
        if (stop.stop_requested())
            break;
        if (end_res >= 0 || socket_ops::retry(end_res) || end_res == -ECONNABORTED)
            continue;  // re-arm (a connection reset while queued is not the listener's error)
        if (!backs_off(end_res))
            (void)co_await hand_over(ready, socket_ops::errno_code(-end_res), stop);
        // IO-5: the connection stays queued in the backlog; re-arm later without spinning.
        (void)co_await select(after(backoff), cancelled(stop));
        backoff = std::min<std::chrono::milliseconds>(backoff * 2, 1s);
    }
    // No accept is armed any more: give the number back first (IO-8), so a caller woken below
    // by the channel's close finds the socket closed if the listener was.
    held.done();
    // Wakes the callers still waiting (EBADF) and closes what nobody took.
    ready.close();
    while (ready.try_recv().status == recv_status::ok) {
    }
}

}  // namespace

bool close(acceptor& a) noexcept {
    if (a.fd.exchange(-1) < 0)
        return false;  // closed already
    // Shut down first: an accept the kernel holds (it has its own file reference) ends with
    // EINVAL, and connections queued in the backlog are reset.
    ::shutdown(a.sock, SHUT_RDWR);
    a.stop.request_stop();
    if (a.uses.fetch_or(acceptor::closed_bit) == 0)
        ::close(a.sock);      // IO-8: no task holds it
    ready_channel unstarted;  // nil unless we close it
    {
        std::lock_guard lock(a.mu);
        if (!a.started) {
            // No acceptor task runs and none will (accept() tests `started` under `mu` too):
            // wake nobody, but make later receives see the end.
            a.started = true;
            unstarted = a.ready;
        }
    }
    if (unstarted != ready_channel())
        unstarted.close();
    return true;
}

task<io_result<accepted_fd>> accept(std::shared_ptr<acceptor> a, io_control ctl) {
    if (!a)
        co_return socket_ops::errno_code(EBADF);
    ready_channel ready;
    bool start = false;
    {
        std::lock_guard lock(a->mu);
        ready = a->ready;
        if (a->fd.load() >= 0 && !a->started)
            a->started = start = true;
    }
    if (start) {
        if (hold(*a))
            go(run_acceptor, a, ready);
        else
            ready.close();  // close() ran after our test of `started`: it left the channel to us
    }
    if (a->fd.load() < 0) {
        // Closed: while the acceptor task still holds the socket, wait for its end (the
        // channel's close is its last step after IO-8 gave the number back), dropping what it
        // still hands over, so that a caller can tell when the socket is really closed.
        // Bounded: a closed listener's task is stopping. No holder: the number is closed
        // already — also when the task's frame was destroyed at a runtime's shutdown, which
        // closes no channel.
        while ((a->uses.load() & ~acceptor::closed_bit) != 0) {
            auto r = co_await select(recv(ready), cancelled(ctl.stop));
            if (r.index == 1 || !r.template get<0>())
                break;
        }
        co_return socket_ops::errno_code(EBADF);
    }
    if (ctl.stop.stop_requested())
        co_return socket_ops::errno_code(ECANCELED);
    bool has_deadline = ctl.deadline != clock::time_point::max();
    if (has_deadline && ctl.deadline <= clock::now())
        co_return socket_ops::errno_code(ETIMEDOUT);
    std::optional<io_result<accepted_fd>> got;
    if (has_deadline) {
        auto r = co_await select(recv(ready), cancelled(ctl.stop), until(ctl.deadline));
        if (r.index == 1)
            co_return socket_ops::errno_code(ECANCELED);
        if (r.index == 2)
            co_return socket_ops::errno_code(ETIMEDOUT);
        got = std::move(r.template get<0>());
    } else {
        auto r = co_await select(recv(ready), cancelled(ctl.stop));
        if (r.index == 1)
            co_return socket_ops::errno_code(ECANCELED);
        got = std::move(r.template get<0>());
    }
    if (!got)
        co_return socket_ops::errno_code(EBADF);  // closed
    co_return std::move(*got);
}

}  // namespace gorun::net::detail
