// The listener's acceptor, shared by tcp_listener and unix_listener (docs/design/io.md,
// "Listeners: one multishot accept, and who closes the socket").
//
// Design
// - The first accept() starts one acceptor task per listener (`started`, under `mu`;
//   close() sets it too, so exactly one of them closes `ready` when no task ever ran). The task
//   keeps a multishot accept armed (uring::multishot: its stream lives in the task's frame,
//   MS-4) and sends each connection into `ready`, a buffered channel that accept() callers
//   receive from in a select with their own stop token and deadline — so a caller that gives up
//   withdraws without taking a connection (SEL-1) and the armed accept serves the others. When
//   `ready` is full the task waits; completions queue in the stream.
// - The kernel ends a multishot accept on an error. EMFILE/ENFILE/ENOBUFS/ENOMEM: sleep 5 ms
//   doubling to 1 s, then re-arm (IO-5: the connection stays in the backlog, no busy loop).
//   EINTR/EAGAIN/ECONNABORTED: re-arm. EINVAL before any connection on a listener not closed:
//   the kernel has no multishot accept (pre-5.19): single accepts from then on. Other errors
//   go to one accept() caller, then the same backoff (a persistent error cannot spin).
// - Connections travel as accepted_fd, which closes the socket unless a listener wraps it: what
//   is accepted and never taken is closed when `ready` is drained (or destroyed).
//
// Invariants
// - IO-8 (the descriptor is closed by its last user, as Go's poll.FD): `sock` is closed exactly
//   once, when the listener is closed *and* no acceptor task holds it. close() marks `uses`
//   closed, shuts the socket down (wakes accepts in the kernel with EINVAL), requests stop
//   (cancels the armed accept, IO-1) — and closes the number only if no task holds it. Otherwise
//   the task closes it when its last armed accept has ended (its final CQE reaped), or its frame
//   is destroyed at runtime shutdown (IO-2). So an accept SQE prepared with `sock` and flushed
//   after close() always reaches the listener's (shut down) socket, never a file that reused
//   the number. Test: `IO-8: a close() between arming an accept and its submission never lets
//   the number be reused`.
//
// - A listener outlives a runtime: an acceptor task whose frame is destroyed at a runtime's
//   shutdown (IO-2) leaves `ready` with waiters linked from destroyed frames (channel.md:
//   shutdown), so it gives the listener a fresh `ready` and clears `started`: the next
//   runtime's first accept() starts a new task and never touches the old channel, which is
//   freed (closing the connections still in it, CH-3) with its last handle. A listener serves
//   one runtime at a time: callers in a second runtime running at the same time would wait on
//   the first one's channel.
//
// Threads: `fd`, `uses` and `stop` are touched from any thread (close() from any thread,
// accept() from any worker); all seq_cst (rare operations; each exchange decides an owner, and
// the task's release must see close()'s mark and vice versa). `sock` is immutable.
// `ready` and `started` change under `mu` (held for a handle copy or an exchange, never across a
// suspension): accept() and the task work on their own copy of the handle.
//
// Rejected: closing the socket in close() at once (the reuse window above; an armed io_uring
// accept holds its own file reference, so it was legal but unsafe), a mutex around arming (the
// SQE reaches the kernel at the worker's next flush, after any lock is released), one accept op
// per accept() call (one SQE and CQE per connection; the multishot needs one per listener), a
// multi-waiter queue inside io_stream (the channel already has waiters with stop tokens and
// deadlines, and select's withdrawal rules).
#pragma once

#include <gorun/channel.hpp>
#include <gorun/io_control.hpp>
#include <gorun/io_result.hpp>
#include <gorun/task.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <stop_token>
#include <utility>

namespace gorun::net::detail {

// An accepted socket, closed on destruction unless released.
class accepted_fd {
public:
    explicit accepted_fd(int fd) noexcept
        : fd_(fd) {}
    accepted_fd(accepted_fd&& o) noexcept
        : fd_(std::exchange(o.fd_, -1)) {}
    accepted_fd& operator=(accepted_fd&& o) noexcept;
    accepted_fd(const accepted_fd&) = delete;
    accepted_fd& operator=(const accepted_fd&) = delete;
    ~accepted_fd();
    int release() noexcept { return std::exchange(fd_, -1); }

private:
    int fd_ = -1;
};

struct acceptor {
    explicit acceptor(int s) noexcept
        : sock(s)
        , fd(s) {}
    // The listening socket's number, valid until IO-8 closes it.
    const int sock;
    // What users see: `sock`, or -1 once closed (close() exchanges it, once).
    std::atomic<int> fd;
    // IO-8: closed_bit | the number of tasks holding `sock` (0 or 1).
    static constexpr unsigned closed_bit = 1u << 31;
    std::atomic<unsigned> uses{0};
    std::stop_source stop;

    std::mutex mu;
    // Connections from the acceptor task to accept() callers.
    channel<io_result<accepted_fd>> ready{64};
    // An acceptor task was started for `ready`, or close() closed `ready` because none was.
    bool started = false;
};

// The next connection (starting the acceptor task on the first call). Errors: EBADF once
// closed — returned once the socket is closed (IO-8): a task still holding it is waited for —,
// ECANCELED/ETIMEDOUT per `ctl`, accept errors other than IO-5's.
task<io_result<accepted_fd>> accept(std::shared_ptr<acceptor> a, io_control ctl);

// Closes the listener (any thread, never blocks): false if it was closed already. IO-8.
bool close(acceptor& a) noexcept;

}  // namespace gorun::net::detail
