// A multishot io_uring op read as a stream (uring::multishot): the hand-off of completions from
// the op's home worker to the task that reads them, wherever that task runs.
//
// Design
// One SQE flagged multishot (accept, recv with provided buffers, poll, timeout) posts a CQE per
// event, each flagged IORING_CQE_F_MORE but the last. The op is an ordinary io_op (io_op.hpp)
// with one slot, homed on the worker whose ring took the SQE; it stays in that worker's
// in-flight list, under its deadline and the cancel protocol (IO-1), until its last CQE — and
// the CQE of every cancel submitted for it — has been reaped. Unlike an awaited op it parks no
// task: the task goes on running (and may be stolen by another worker) and reads the
// completions with next().
//
// Invariants
// - MS-1 (no completion lost, none reordered): the home worker appends every CQE flagged MORE
//   to the stream's queue as it reaps it (deliver), and the last one when the op has finished
//   (finished); the reader takes them in that order. The queue is a ring of `inline_capacity`
//   entries inside the object, which doubles on the heap when the reader falls behind: the
//   kernel keeps posting while the task is busy, and a multishot op cannot be paused, so the
//   only alternatives were dropping (never) or cancelling on a full queue (surprising; the
//   user can do that with cancel()). Growth happens on the home worker; an allocation failure
//   there terminates (std::bad_alloc in a noexcept path).
// - MS-2 (hand-off): the home worker and the reader run on different threads whenever the task
//   has migrated. Everything they share — the queue, `ended_`, `closing_` and `waiter_` — is
//   guarded by `lock_` (a spin lock: a few dozen instructions on either side). A reader that
//   finds the queue empty records itself in `waiter_` under the lock and suspends; the home
//   worker takes `waiter_` under the lock when it appends, and calls ready() after unlocking.
//   So a completion appended after the reader checked finds the waiter, and one appended
//   before is seen by the check: no lost wake-up. The lock's release/acquire also orders the
//   reader's park_current (its resume handle) before the home worker's ready().
// - MS-3 (end): `ended_` becomes true only when the io_op has finished — its last CQE and its
//   cancels' CQEs reaped, and the op out of the io_cancels list — so the kernel and the runtime
//   refer to nothing in the object once a reader sees it (IO-1). The home worker's unlock in
//   `finished` is its last touch of the object: the reader may destroy it right after.
// - MS-4 (destruction): the destructor cannot suspend, so it cannot wait for the kernel. An
//   armed stream that has not ended is destroyed only by mistake — fatal, with a message that
//   says to co_await close() — except at runtime shutdown (IO-2), where every ring has been
//   drained before frames are destroyed. While draining, completions are not queued (no reader
//   runs again): fds they carry are closed at once, and `ended_` stays false so that a reader
//   still running on another worker cannot free the frame under the drain.
// - On a stream of fds (multishot accept), every fd is either delivered by next() — then the
//   caller owns it — or closed by gorun: those queued when close() runs or the stream is
//   destroyed, those arriving after close() began, and those arriving while draining.
// - A completion flagged IORING_CQE_F_BUFFER holds a provided buffer that only the caller can
//   give back (buffer_ring::recycle). close() never drops one: those queued and those arriving
//   after close() began stay queued, and next() yields them after close() (then nullopt).
#pragma once

#include <gorun/detail/io_op.hpp>
#include <gorun/detail/spin_lock.hpp>

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stop_token>

namespace gorun::detail {

// One completion of a multishot SQE.
struct io_stream_entry {
    std::int32_t res = 0;
    std::uint32_t flags = 0;
};

class io_stream {
public:
    static constexpr std::uint32_t inline_capacity = 16;

    explicit io_stream(bool results_are_fds) noexcept
        : fds_(results_are_fds) {
        op_.stream = this;
    }
    io_stream(const io_stream&) = delete;
    io_stream& operator=(const io_stream&) = delete;
    ~io_stream();

    // ---- arming (the owning task, on a worker) ----
    io_cqe_slot* slot() noexcept { return &slot_; }
    // Ends the stream before anything was submitted: one final completion `res`.
    void end_early(int res) noexcept;
    // The SQE is prepared with user_data = slot(): homes the op on this worker, arms its
    // deadline and registers the stop callback.
    void begin(
        std::uint8_t opcode,
        std::int32_t fd,
        std::int64_t deadline_ns,
        std::stop_token stop) noexcept;

    // ---- the reader (the owning task, on any worker) ----
    // The next completion, or nullopt when the stream has ended and its queue is empty.
    // False when neither is there yet (the caller suspends with suspend()).
    bool take(std::optional<io_stream_entry>& out) noexcept;
    // Parks the running task until a completion or the end arrives. False (and nothing parked)
    // if one is there already.
    bool suspend(std::coroutine_handle<> h) noexcept;
    // Requests cancellation (any thread, any number of times).
    void cancel() noexcept;
    // close(): drops the queue (closing fds; keeping completions that hold a provided buffer),
    // cancels, and reports whether the stream has ended.
    bool close_begin() noexcept;
    // Parks the running task until the stream ends. False if it has.
    bool suspend_until_end(std::coroutine_handle<> h) noexcept;
    void close_end() noexcept { cb_.reset(); }

    bool armed() const noexcept { return armed_; }
    std::size_t buffered() const noexcept;
    unsigned home_index() const noexcept;

    // ---- the home worker (src/io/op.cpp, from reaping) ----
    // A CQE flagged MORE.
    void deliver(std::int32_t res, std::uint32_t flags, bool draining) noexcept;
    // The op has finished (its last CQE and its cancels' are reaped, it is in no list).
    static void finished(bool draining, io_op& op, bool cancelled) noexcept;

private:
    void push(io_stream_entry e);  // lock held
    bool home_runtime_dead() const noexcept;

    io_op op_;
    io_cqe_slot slot_;
    mutable spin_lock lock_;
    // Guarded by lock_ (MS-2):
    io_stream_entry inline_[inline_capacity];
    io_stream_entry* buf_ = inline_;
    std::uint32_t cap_ = inline_capacity;
    std::uint32_t head_ = 0;
    std::uint32_t count_ = 0;
    bool ended_ = false;
    bool closing_ = false;
    task_base* waiter_ = nullptr;
    // The owning task's alone:
    bool armed_ = false;
    const bool fds_;
    std::optional<std::stop_callback<io_stop_fn>> cb_;
};

}  // namespace gorun::detail
