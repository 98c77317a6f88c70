// One io_uring per worker: the worker's event loop, its place to park, and its doorbell.
//
// Design
// - Created on the worker's own thread, because with IORING_SETUP_SINGLE_ISSUER the creating
//   task becomes the only one allowed to submit. Set-up probes the best flags the kernel has:
//   SINGLE_ISSUER|DEFER_TASKRUN|TASKRUN_FLAG (6.1+), else COOP_TASKRUN|TASKRUN_FLAG (5.19+),
//   else COOP_TASKRUN, else none (an EINVAL moves to the next set).
// - Parking is waiting in io_uring_enter for one completion, with the worker's nearest timer
//   as the timeout (IORING_ENTER_EXT_ARG, no timeout SQE).
// - Waking a parked worker posts a completion to its ring: IORING_OP_MSG_RING from the
//   waker's own ring when the waker is a worker (tagged tag_wake, sender CQE skipped on
//   success), else a write to the target's eventfd, on which every ring keeps a read armed.
// - Completions carry a user_data that is either a small tag (below) or, in later I/O work,
//   the address of an operation object (>= tag_limit).
// Errors from set-up are -errno; describe_setup_error() turns them into a message that names
// the cause and the fix (IO-3).
#pragma once

#include <liburing.h>

#include <cstdint>
#include <string>

namespace gorun::detail {

class ring {
public:
    static constexpr std::uint64_t tag_ignore = 0;   // sender side of a MSG_RING, etc.
    static constexpr std::uint64_t tag_wake = 1;     // a MSG_RING wake from another worker
    static constexpr std::uint64_t tag_eventfd = 2;  // the armed eventfd read completed
    static constexpr std::uint64_t tag_limit = 8;

    ring() = default;
    ring(const ring&) = delete;
    ring& operator=(const ring&) = delete;
    ~ring() { close(); }

    // Sets the ring up on the calling thread. 0 or -errno.
    int open(unsigned entries) noexcept;
    void close() noexcept;
    bool is_open() const noexcept { return open_; }

    int fd() const noexcept { return ring_fd_; }
    int event_fd() const noexcept { return event_fd_; }
    unsigned setup_flags() const noexcept { return flags_; }
    const char* mode() const noexcept;  // for dumps: which flag set the kernel accepted

    // Wakes the ring whose fd is `target_fd` through this ring (owner thread only).
    // Falls back to the target's eventfd when MSG_RING is unavailable.
    void send_wake(int target_fd, int target_event_fd) noexcept;

    // Wakes a ring from any thread, through its eventfd.
    static void wake_by_eventfd(int event_fd) noexcept;

    // Submits pending SQEs and reaps completions without blocking; enters the kernel only
    // when there is something to submit or the kernel flagged pending task work. Returns the
    // number of completions seen.
    unsigned poll() noexcept;

    // Submits pending SQEs and blocks until a completion arrives or `timeout_ns` passes
    // (< 0: no timeout), then reaps like poll().
    unsigned wait(std::int64_t timeout_ns) noexcept;

    std::uint64_t cqes_reaped() const noexcept { return cqes_; }
    std::uint64_t enters() const noexcept { return enters_; }

private:
    io_uring_sqe* get_sqe() noexcept;
    void arm_eventfd() noexcept;
    unsigned reap() noexcept;

    io_uring r_{};
    bool open_ = false;
    int ring_fd_ = -1;
    int event_fd_ = -1;
    unsigned flags_ = 0;
    bool has_msg_ring_ = false;
    bool skip_success_ = false;
    std::uint64_t event_buf_ = 0;
    std::uint64_t cqes_ = 0;
    std::uint64_t enters_ = 0;
};

// A message for a failed ring set-up: which cause, and which knob fixes it (IO-3).
std::string describe_setup_error(int neg_errno, unsigned entries);

}  // namespace gorun::detail
