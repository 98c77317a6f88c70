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
// - Completions carry a user_data that is either a small tag (below) or the address of an
//   io_cqe_slot of an operation in flight (>= tag_limit; include/gorun/detail/io_op.hpp), whose
//   completion reap() hands to io_complete().
// - Batching: SQEs prepared by tasks stay in the SQ until the worker flushes it — when it runs
//   out of tasks (poll() in find_slow, or wait() when it parks) or at the periodic housekeeping
//   tick — so one io_uring_enter submits everything a scheduler pass produced and, with
//   IORING_ENTER_GETEVENTS, runs the kernel's deferred task work so the completions are there
//   to reap at once. Completions already in the CQ are reaped without a syscall.
// - SQ full: get_sqes() flushes the SQ and retries (a chain is never split across two enters).
//   CQ overflow (IO-4): the ring requires IORING_FEAT_NODROP; the kernel then keeps overflowed
//   CQEs and sets IORING_SQ_CQ_OVERFLOW, which poll() sees and flushes with an enter (counted
//   in cq_overflows()). A CQE the kernel had to drop anyway (cq.koverflow grows) is fatal:
//   an op would never complete. -EBUSY/-EAGAIN from a submit: reap, then retry.
#pragma once

#include <liburing.h>

#include <atomic>
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
    // `extra_flags`, `sq_idle_ms` and `attach_wq_fd` are runtime_options' ring set-up options.
    int open(
        unsigned entries,
        unsigned extra_flags = 0,
        unsigned sq_idle_ms = 0,
        int attach_wq_fd = -1) noexcept;
    void close() noexcept;
    bool is_open() const noexcept { return open_; }

    int fd() const noexcept { return ring_fd_; }
    int event_fd() const noexcept { return event_fd_; }
    unsigned setup_flags() const noexcept { return flags_; }
    const char* mode() const noexcept;  // for dumps: which flag set the kernel accepted
    // For dumps, from any thread (a racy snapshot): SQEs not yet submitted, CQEs not yet
    // reaped, and the kernel's CQ-overflow / task-run flags.
    std::string dump_state() const;

    // Wakes the ring whose fd is `target_fd` through this ring (owner thread only).
    // Falls back to the target's eventfd when MSG_RING is unavailable.
    void send_wake(int target_fd, int target_event_fd) noexcept;

    // Takes `n` SQEs (flushing the SQ when they do not fit). 0, -EINVAL (n > SQ size) or -EBUSY.
    int get_sqes(io_uring_sqe** out, unsigned n) noexcept;
    io_uring* raw() noexcept { return &r_; }
    unsigned sq_entries() const noexcept { return r_.sq.ring_entries; }

    // Wakes a ring from any thread, through its eventfd.
    static void wake_by_eventfd(int event_fd) noexcept;

    // Submits pending SQEs and reaps completions without blocking; enters the kernel only
    // when there is something to submit or the kernel flagged pending task work. Returns the
    // number of completions seen.
    unsigned poll() noexcept;

    // Submits pending SQEs and blocks until a completion arrives or `timeout_ns` passes
    // (< 0: no timeout), then reaps like poll().
    unsigned wait(std::int64_t timeout_ns) noexcept;

    // Counters: written by the owner, read by anyone (relaxed) for metrics.
    std::uint64_t cqes_reaped() const noexcept { return cqes_.load(std::memory_order_relaxed); }
    std::uint64_t enters() const noexcept { return enters_.load(std::memory_order_relaxed); }
    std::uint64_t sqes_submitted() const noexcept { return sqes_.load(std::memory_order_relaxed); }
    std::uint64_t cq_overflows() const noexcept {
        return overflows_.load(std::memory_order_relaxed);
    }

private:
    io_uring_sqe* get_sqe() noexcept;
    void arm_eventfd() noexcept;
    unsigned reap() noexcept;
    // One io_uring_enter submitting the SQ (and running task work when get_events); handles
    // EINTR / EBUSY / EAGAIN. Returns SQEs submitted or -errno.
    int submit(bool get_events) noexcept;
    static void bump(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) noexcept {
        c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }

    io_uring r_{};
    bool open_ = false;
    int ring_fd_ = -1;
    int event_fd_ = -1;
    unsigned flags_ = 0;
    bool has_msg_ring_ = false;
    bool skip_success_ = false;
    std::uint64_t event_buf_ = 0;
    unsigned dropped_seen_ = 0;  // cq.koverflow when last checked
    std::atomic<std::uint64_t> cqes_{0};
    std::atomic<std::uint64_t> enters_{0};
    std::atomic<std::uint64_t> sqes_{0};
    std::atomic<std::uint64_t> overflows_{0};
};

// A message for a failed ring set-up: which cause, and which knob fixes it (IO-3).
std::string describe_setup_error(int neg_errno, unsigned entries);

}  // namespace gorun::detail
