// An io_uring operation in flight: the object a completion's user_data points at.
//
// Design
// An awaiter that submits SQEs (uring.hpp) holds one io_op and one io_cqe_slot per SQE in its
// own frame: submitting allocates nothing. Each SQE's user_data is the address of its slot
// (always >= ring::tag_limit, so it cannot be mistaken for a scheduler tag). The op is *homed*
// on the worker whose ring got its SQEs; only that worker's thread reaps its completions,
// arms its deadline timer and submits cancellations for it (rings are SINGLE_ISSUER).
// When the last slot's completion is reaped the home worker makes the task runnable (ready()).
//
// Cancellation protocol (IO-1; docs/design/io.md has the prose and the interleavings)
// `state` is the only field written by more than one thread:
//
//     armed ──(remote canceller CAS)──────────> cancel_queued ──(home pops the list)──> cancel_sent
//       │  └──(home: timer / local stop, CAS)──────────────────────────────────────────────┘ │
//       └──(home reaps the last CQE: exchange)──> done <──(home reaps the last CQE)───────────┘
//                                                  ^
//     cancel_queued ──(home reaps the last CQE)────┘ (the task is resumed only when the home
//                                                     worker later pops the op from its list)
// - A canceller on another thread (a std::stop_callback) CASes armed -> cancel_queued, pushes
//   the op onto the home worker's MPSC `io_cancels` list and wakes that worker. The home worker
//   pops it, moves it to cancel_sent and submits IORING_OP_ASYNC_CANCEL for each slot still
//   pending. On the home worker itself (deadline timer, a stop request from a task there) the
//   CAS goes straight to cancel_sent and the cancel SQEs are prepared at once.
// - The task is resumed only after the last CQE of the op AND of each ASYNC_CANCEL submitted for
//   it has been reaped, and the op is no longer in a cancel list, so neither the kernel (a
//   cancel's user_data points at the slot too) nor a list ever refers to the frame after the
//   task runs on. `pending` counts both kinds of CQE.
// - A cancel that reports -ENOENT while its slot's own CQE has not come found the op between two
//   kernel states (an async-poll retry queued as task work, in neither the poll table nor
//   io-wq; or a linked SQE whose predecessor still runs): the op is still in flight and would
//   otherwise wait forever. Once the op is being cancelled its deadline is moot, so the home
//   worker reuses the op's timer node to submit the cancel again from its timer heap: at its
//   next housekeeping (after the kernel has run that task work), then backing off to 10 ms for
//   an op that keeps missing (docs/design/io.md, "A cancel that misses"). The canceller touches
//   nothing of the op after its push, and the stop callback's destructor (run by the resumed task)
//   waits for a callback still running.
// Fields other than `state` belong to the home worker while the op is in flight, and to the
// task before io_begin and after it is resumed (the run queue hand-off orders the two).
#pragma once

#include <gorun/detail/task_base.hpp>
#include <gorun/detail/timer.hpp>

#include <atomic>
#include <coroutine>
#include <cstdint>

namespace gorun::detail {

struct worker;
struct io_op;
class io_stream;
struct ring_call;  // uring.hpp

// The completion of one SQE. The SQE's user_data is this slot's address.
struct io_cqe_slot {
    io_op* op = nullptr;
    std::int32_t res = 0;
    std::uint32_t flags = 0;
    bool done = false;
    bool cancel_again = false;  // its cancel missed (-ENOENT) while it was in flight: re-issue
    // What the SQE asked for, kept for dumps ("what is each pending op waiting for").
    std::uint8_t opcode = 0;
    std::int32_t fd = -1;
};

enum : std::uint8_t { io_armed, io_cancel_queued, io_cancel_sent, io_done };

// timer_node is the op's deadline timer (on the home worker's heap); `task` is the task to
// resume.
struct io_op : timer_node {
    worker* home = nullptr;
    io_cqe_slot* slots = nullptr;
    std::uint32_t nslots = 0;
    std::uint32_t pending = 0;  // CQEs still to come: the slots' own and their cancels'
    std::atomic<std::uint8_t> state{io_armed};
    bool timed_out = false;  // the deadline fired and cancelled the op
    bool cancelled = false;  // a cancel was requested (set when the task is resumed)
    // For ops whose successful result is a new fd (open, accept, socket): closes it when the
    // result will never be delivered — the op was cancelled but completed anyway, or the
    // runtime is shutting down. The result is then -ECANCELED.
    bool result_is_fd = false;
    bool busy = false;               // home worker is preparing its cancel SQEs
    bool resume_deferred = false;    // its last CQE came meanwhile: resume when done
    std::uint8_t cancel_misses = 0;  // cancels that missed in a row (retry backoff)
    io_op* cancel_next = nullptr;    // link in the home worker's io_cancels list
    // A multishot stream (io_stream.hpp): its CQEs flagged IORING_CQE_F_MORE are handed to the
    // stream as they come, and the op's end ends the stream instead of resuming a task.
    io_stream* stream = nullptr;
    io_op* prev = nullptr;  // links in the home worker's list of ops in flight
    io_op* next = nullptr;
};

// Starts waiting for the op whose `n` SQEs (with user_data = &slots[i]) the caller has just
// prepared on the current worker's ring: parks the running task (resuming `h` later), homes the
// op here, and arms its deadline (deadline_ns < INT64_MAX) on this worker's timer heap.
void io_begin(
    io_op& op,
    std::coroutine_handle<> h,
    io_cqe_slot* slots,
    unsigned n,
    std::int64_t deadline_ns) noexcept;

// Homes the op like io_begin without parking the running task (multishot streams: the task goes
// on running and reads the completions as they come).
void io_begin_detached(
    io_op& op, io_cqe_slot* slots, unsigned n, std::int64_t deadline_ns) noexcept;

// Requests cancellation of an op in flight; callable from any thread, any number of times, also
// after the op has completed (then it does nothing). See the protocol above.
void io_cancel(io_op& op) noexcept;

// Reaping (src/io/ring.cpp): the completion of one slot, on the home worker.
void io_complete(io_cqe_slot* slot, std::int32_t res, std::uint32_t flags) noexcept;

// The user_data of an ASYNC_CANCEL for `slot` is the slot's address with this bit set (slots are
// pointer-aligned); reaping hands its completion to io_cancel_complete.
inline constexpr std::uintptr_t io_cancel_tag_bit = 1;
static_assert(alignof(io_cqe_slot) > io_cancel_tag_bit);

// Reaping: the completion of an ASYNC_CANCEL submitted for `slot`, on the home worker.
void io_cancel_complete(io_cqe_slot* slot, std::int32_t res) noexcept;

// The callable a std::stop_callback runs for an op.
struct io_stop_fn {
    io_op* op;
    void operator()() const noexcept { io_cancel(*op); }
};

}  // namespace gorun::detail
