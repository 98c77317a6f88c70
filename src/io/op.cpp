// I/O operations on the worker's ring: starting, completing, cancelling, and the shutdown drain.
//
// include/gorun/detail/io_op.hpp states the op states and the cancel protocol (IO-1);
// docs/design/io.md walks through the interleavings. In short:
// - io_begin (home worker): parks the task, links the op into the worker's in-flight list,
//   arms the deadline timer.
// - io_complete / io_cancel_complete (home worker, from reap): count the op's CQEs — its slots'
//   and its cancels' — down; on the last one op_finished disarms the timer, unlinks, and moves
//   the state to done; the task is resumed unless a remote cancel request still has the op in
//   the io_cancels list (then the list pop resumes it).
// - A cancel that reports -ENOENT while its slot is still in flight missed the op in a
//   transient kernel state (io.md, "A cancel that misses"): it is re-issued from the op's timer
//   node (cancel_retry_fired), which the op no longer needs for its deadline.
// - io_cancel (any thread): on the home worker, CAS armed -> cancel_sent and prepare the
//   ASYNC_CANCEL SQEs at once; elsewhere CAS armed -> cancel_queued, push onto the home
//   worker's io_cancels (seq_cst; pairs with the owner's exchange) and wake it when the list
//   was empty. The pusher touches nothing of the op after its push.
// - Deadlines use the home worker's timer heap rather than IORING_OP_LINK_TIMEOUT: an op that
//   completes in time (the common case) then costs a heap insert and remove on the worker,
//   instead of an extra SQE, CQE and kernel hrtimer; it works the same for linked chains; and
//   deadlines are absolute (Go's SetDeadline), which the heap takes as they are.
#include "io/op.hpp"

#include <gorun/uring.hpp>

#include <gorun/detail/io_op.hpp>
#include <gorun/detail/io_stream.hpp>

#include "runtime_state.hpp"

#include <fmt/format.h>

#include <liburing.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

namespace gorun::detail {

namespace {

void resume_op(worker& w, io_op& op, bool cancelled) noexcept {
    op.cancelled = cancelled;
    if (op.stream) {
        // A multishot stream: its end is a completion for the reader, not a resumption.
        io_stream::finished(w.io_draining, op, cancelled);
        return;
    }
    io_cqe_slot& first = op.slots[0];
    if (w.io_draining) {
        // IO-2: the frame is about to be destroyed; nothing is delivered.
        // Marking the result spent makes a second call (a late pop from io_cancels) harmless.
        if (op.result_is_fd && first.res >= 0) {
            ::close(first.res);
            first.res = -ECANCELED;
        }
        return;
    }
    if (cancelled) {
        int why = op.timed_out ? -ETIMEDOUT : -ECANCELED;
        for (std::uint32_t i = 0; i < op.nslots; ++i) {
            int r = op.slots[i].res;
            // io-wq reports a cancelled blocking op as -EINTR (io_complete folds the kernel's
            // internal -ERESTART* codes into it).
            if (r == -ECANCELED || r == -EINTR)
                op.slots[i].res = why;
        }
        if (op.result_is_fd && first.res >= 0) {
            // Cancelled, yet the fd was made: nobody will own it.
            ::close(first.res);
            first.res = why;
        }
    }
    ready(op.task);  // the last touch: the task may run (and free the op) from here on
}

// Takes one SQE for a cancel of `op`'s slot `i` (home worker; op.busy is set): an ASYNC_CANCEL
// keyed by the slot, whose own CQE is tagged with io_cancel_tag_bit and counted in op.pending —
// the frame must outlive the kernel's use of that user_data, and the result tells whether the
// cancel missed (io_cancel_complete). True if the cancel was prepared; false if the slot
// completed while a full SQ was flushed to make room (the SQE becomes a NOP then).
bool prep_cancel(worker& w, io_op& op, std::uint32_t i) noexcept {
    io_uring_sqe* sqe = nullptr;
    while (w.io.get_sqes(&sqe, 1) < 0)
        w.io.poll();
    io_cqe_slot& slot = op.slots[i];
    if (slot.done) {
        // The flush inside get_sqes reaped the slot's last CQE: nothing left to cancel.
        io_uring_prep_nop(sqe);
        io_uring_sqe_set_data64(sqe, ring::tag_ignore);
        sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
        return false;
    }
    auto addr = reinterpret_cast<std::uintptr_t>(&slot);
    io_uring_prep_cancel64(sqe, addr, 0);
    io_uring_sqe_set_data64(sqe, addr | io_cancel_tag_bit);
    return true;
}

void op_finished(worker& w, io_op& op) noexcept;

// Ends a stretch in which the home worker worked on `op` (op.busy): resumes it if its last CQE
// came meanwhile.
void end_busy(worker& w, io_op& op) noexcept {
    op.busy = false;
    if (op.resume_deferred) {
        op.resume_deferred = false;
        resume_op(w, op, true);
    }
}

// Prepares an ASYNC_CANCEL for every slot of `op` still pending (home worker only).
void submit_cancels(worker& w, io_op& op) noexcept {
    w.stat_io_cancels.inc();
    // A flush inside get_sqes may reap (on -EBUSY), which may complete this very op: defer its
    // resumption until we are done with it.
    op.busy = true;
    for (std::uint32_t i = 0; i < op.nslots; ++i) {
        if (!op.slots[i].done && prep_cancel(w, op, i))
            ++op.pending;  // the cancel's own CQE
    }
    end_busy(w, op);
}

// The op's timer fired as a cancel retry (io_cancel_complete armed it): re-issues the cancels
// that missed.
void cancel_retry_fired(timer_node* n) noexcept {
    auto& op = static_cast<io_op&>(*n);
    worker& w = *op.home;
    op.busy = true;
    for (std::uint32_t i = 0; i < op.nslots; ++i) {
        io_cqe_slot& slot = op.slots[i];
        if (!slot.cancel_again)
            continue;
        slot.cancel_again = false;
        // op.pending still counts the missed cancel's CQE: the new cancel takes its place, or,
        // if the slot has completed meanwhile, nothing does.
        if (slot.done || !prep_cancel(w, op, i)) {
            if (--op.pending == 0)
                op_finished(w, op);  // busy: end_busy resumes the task
        }
    }
    end_busy(w, op);
}

void deadline_fired(timer_node* n) noexcept {
    auto& op = static_cast<io_op&>(*n);
    std::uint8_t s = io_armed;
    if (op.state.compare_exchange_strong(s, io_cancel_sent, std::memory_order_acq_rel)) {
        op.timed_out = true;
        submit_cancels(*op.home, op);
    }
    // Otherwise a stop request got there first (queued or sent): it cancels the op.
}

void unlink(worker& w, io_op& op) noexcept {
    if (op.prev)
        op.prev->next = op.next;
    else
        w.io_ops = op.next;
    if (op.next)
        op.next->prev = op.prev;
    --w.io_in_flight;
    w.stat_io_pending.v.store(w.io_in_flight, std::memory_order_relaxed);
}

}  // namespace

namespace {

void home_op(
    worker& w, io_op& op, io_cqe_slot* slots, unsigned n, std::int64_t deadline_ns) noexcept {
    op.home = &w;
    op.slots = slots;
    op.nslots = n;
    op.pending = n;
    for (unsigned i = 0; i < n; ++i)
        slots[i].op = &op;
    // Relaxed: a remote canceller learns of the op through the stop_callback registration
    // that follows (the stop state's lock orders it).
    op.state.store(io_armed, std::memory_order_relaxed);
    op.prev = nullptr;
    op.next = w.io_ops;
    if (w.io_ops)
        w.io_ops->prev = &op;
    w.io_ops = &op;
    ++w.io_in_flight;
    w.stat_io_ops.inc();
    w.stat_io_pending.v.store(w.io_in_flight, std::memory_order_relaxed);
    if (deadline_ns != INT64_MAX) {
        op.deadline_ns = deadline_ns;
        op.fire = &deadline_fired;
        w.timers.add(&op);
        w.stat_timers.store(w.timers.size(), std::memory_order_relaxed);
    }
}

}  // namespace

void io_begin(
    io_op& op,
    std::coroutine_handle<> h,
    io_cqe_slot* slots,
    unsigned n,
    std::int64_t deadline_ns) noexcept {
    worker& w = *tls_worker;  // io_get_sqes checked it
    op.task = park_current(h);
    home_op(w, op, slots, n, deadline_ns);
}

void io_begin_detached(
    io_op& op, io_cqe_slot* slots, unsigned n, std::int64_t deadline_ns) noexcept {
    worker& w = *tls_worker;  // io_get_sqes checked it
    op.task = w.current;      // for dumps only: nothing resumes it through the op
    home_op(w, op, slots, n, deadline_ns);
}

namespace {

// The op's last CQE (its slots' and its cancels') has been reaped: the kernel refers to it no
// more. Resumes the task unless a cancel list still holds the op or the worker is busy with it.
void op_finished(worker& w, io_op& op) noexcept {
    if (op.armed) {
        w.timers.remove(&op);
        w.stat_timers.store(w.timers.size(), std::memory_order_relaxed);
    }
    unlink(w, op);
    std::uint8_t s = op.state.exchange(io_done, std::memory_order_acq_rel);
    if (w.io_draining) {
        resume_op(w, op, true);  // delivers nothing; closes a produced fd
        return;
    }
    if (s == io_cancel_queued)
        return;  // still in io_cancels: popping it resumes the task
    if (op.busy) {
        op.resume_deferred = true;  // submit_cancels / cancel_retry_fired is working on it
        return;
    }
    resume_op(w, op, s != io_armed);
}

}  // namespace

void io_complete(io_cqe_slot* slot, std::int32_t res, std::uint32_t flags) noexcept {
    io_op& op = *slot->op;
    // An io-wq op interrupted by a cancel may report the kernel-internal -ERESTARTSYS (512)
    // .. -ERESTART_RESTARTBLOCK (516) (seen on 6.18 with a blocking splice): fold into -EINTR.
    if (res <= -512 && res >= -516) [[unlikely]]
        res = -EINTR;
    // A multishot SQE posts CQEs flagged MORE before its last one; only the last ends it.
    if (flags & IORING_CQE_F_MORE) {
        if (op.stream)
            op.stream->deliver(res, flags, op.home->io_draining);  // to the reader, in order
        else {
            slot->res = res;  // a plain op awaiting a multishot SQE keeps the latest
            slot->flags = flags;
        }
        return;
    }
    slot->res = res;
    slot->flags = flags;
    slot->done = true;
    if (--op.pending == 0)
        op_finished(*op.home, op);
}

void io_cancel_complete(io_cqe_slot* slot, std::int32_t res) noexcept {
    io_op& op = *slot->op;
    worker& w = *op.home;
    if (res == -ENOENT && !slot->done) {
        // The kernel did not find the op, yet its CQE has not come: the op was between two
        // states in which a cancel cannot see it — typically an async-poll read whose poll
        // found the file ready while being armed, queued as task work to retry the read (in
        // neither the poll table nor io-wq). With DEFER_TASKRUN that task work runs in our next
        // GETEVENTS enter, *after* that enter's submissions, and the retry may find nothing to
        // read (another reader took it) and arm the poll again: the op would wait forever.
        // Ask again after the task work has run; this cancel's place in op.pending goes to the
        // new one. (If the op's own CQE follows later in this batch, the retry sees `done`.)
        slot->cancel_again = true;
        // Once the op is being cancelled its deadline is moot (deadline_fired would find it
        // cancel_sent and do nothing), so its timer node is free to schedule the retry: first
        // at the next housekeeping, then 100 µs doubling up to 10 ms, so an op that stays out of
        // reach (a linked SQE behind a slow one) costs no busy loop. io_drain retries itself.
        if (op.armed) {
            if (op.fire == &cancel_retry_fired)
                return;  // a retry is scheduled already; it handles this slot too
            w.timers.remove(&op);
        }
        std::int64_t delay = op.cancel_misses == 0
            ? 0
            : std::min<std::int64_t>(
                10'000'000, std::int64_t{50'000} << std::min<int>(op.cancel_misses, 8));
        if (op.cancel_misses < 255)
            ++op.cancel_misses;
        op.deadline_ns = now_ns() + delay;
        op.fire = &cancel_retry_fired;
        w.timers.add(&op);
        w.stat_timers.store(w.timers.size(), std::memory_order_relaxed);
        return;
    }
    // 0: cancelled, its CQE follows; -EALREADY: running in io-wq, interrupted, its CQE follows;
    // -ENOENT with the slot done: it completed first.
    if (--op.pending == 0)
        op_finished(w, op);
}

void io_cancel(io_op& op) noexcept {
    worker* home = op.home;
    worker* self = tls_worker;
    std::uint8_t s = io_armed;
    if (self == home) {
        if (op.state.compare_exchange_strong(s, io_cancel_sent, std::memory_order_acq_rel))
            submit_cancels(*home, op);
        return;
    }
    if (!op.state.compare_exchange_strong(s, io_cancel_queued, std::memory_order_acq_rel))
        return;  // done, or already being cancelled
    io_op* head = home->io_cancels.load(std::memory_order_relaxed);
    do {
        op.cancel_next = head;
    } while (!home->io_cancels.compare_exchange_weak(
        head, &op, std::memory_order_seq_cst, std::memory_order_relaxed));
    // From here on the op may be popped and its task resumed: do not touch it.
    if (!head)
        wake_worker(*home);  // the list was empty: the owner may be parked
}

void io_process_cancels(worker& w) noexcept {
    if (!w.io_cancels.load(std::memory_order_relaxed))
        return;
    io_op* op = w.io_cancels.exchange(nullptr, std::memory_order_seq_cst);
    while (op) {
        io_op* next = op->cancel_next;  // read first: resuming may free the op
        // Only this thread moves an op out of cancel_queued.
        if (op->state.load(std::memory_order_acquire) == io_done) {
            resume_op(w, *op, true);  // its completion came while it waited in the list
        } else {
            op->state.store(io_cancel_sent, std::memory_order_release);
            submit_cancels(w, *op);
        }
        op = next;
    }
}

void io_drain(worker& w) noexcept {
    w.io_draining = true;
    io_process_cancels(w);
    if (w.io_in_flight == 0 || !w.io.is_open())
        return;
    std::vector<io_op*> ops;
    auto cancel_all = [&] {
        ops.clear();
        for (io_op* op = w.io_ops; op; op = op->next)
            ops.push_back(op);
        // Ops stay valid while draining (no task is resumed, no frame freed), so the snapshot
        // may be walked although submit_cancels may complete some of them.
        for (io_op* op : ops) {
            if (op->state.load(std::memory_order_acquire) == io_done)
                continue;
            op->state.store(io_cancel_sent, std::memory_order_release);
            submit_cancels(w, *op);
        }
    };
    cancel_all();
    std::int64_t next_retry = now_ns() + 1'000'000'000;
    // Cancels that missed (io_cancel_complete): their retry timers do not fire while draining,
    // so they are re-issued here when due (keeping the backoff); returns the wait until the
    // next one is due, at most 50 ms.
    auto retry_missed = [&]() -> std::int64_t {
        std::int64_t now = now_ns();
        std::int64_t wait = 50'000'000;
        ops.clear();
        for (io_op* op = w.io_ops; op; op = op->next) {
            if (!op->armed || op->fire != &cancel_retry_fired)
                continue;
            if (op->deadline_ns <= now)
                ops.push_back(op);
            else
                wait = std::min(wait, op->deadline_ns - now);
        }
        for (io_op* op : ops) {
            w.timers.remove(op);
            cancel_retry_fired(op);
        }
        return wait;
    };
    std::int64_t wait_ns = 50'000'000;
    while (w.io_in_flight > 0) {
        w.io.wait(wait_ns);
        io_process_cancels(w);  // late remote cancel requests: nothing to deliver
        wait_ns = retry_missed();
        if (now_ns() >= next_retry) {
            // Something did not yield to the first cancel (an io-wq op in progress): ask again.
            cancel_all();
            next_retry = now_ns() + 1'000'000'000;
        }
    }
}

void io_dump(const worker& w, std::FILE* out, bool ops) noexcept {
    if (!w.io.is_open())
        return;
    static constexpr const char* state_names[] = {"armed", "cancel_queued", "cancel_sent", "done"};
    fmt::print(
        out,
        "    io: {} in flight, cancel requests {}, {}\n",
        w.io_in_flight,
        w.io_cancels.load(std::memory_order_relaxed) ? "queued" : "none",
        w.io.dump_state());
    if (!ops)
        return;  // the list belongs to the worker's thread: walked only for a hung process
    int shown = 0;
    for (const io_op* op = w.io_ops; op; op = op->next) {
        if (++shown > 16) {
            fmt::print(out, "      ...\n");
            break;
        }
        std::uint8_t s = op->state.load(std::memory_order_relaxed);
        fmt::print(
            out,
            "      op {}: {}{} pending {}/{}{}{}{}{} |",
            static_cast<const void*>(op),
            s <= io_done ? state_names[s] : "?",
            op->stream ? " multishot" : "",
            op->pending,
            op->nslots,
            !op->armed                            ? ""
                : op->fire == &cancel_retry_fired ? " cancel-retry"
                                                  : " deadline",
            op->busy ? " busy" : "",
            op->resume_deferred ? " resume-deferred" : "",
            op->timed_out ? " timed-out" : "");
        for (std::uint32_t i = 0; i < op->nslots && i < 8; ++i) {
            const io_cqe_slot& sl = op->slots[i];
            fmt::print(out, " opcode {} fd {} {}", sl.opcode, sl.fd, sl.done ? "done" : "waiting");
        }
        fmt::print(out, "\n");
    }
}

int io_get_sqes(io_uring_sqe** out, unsigned n) noexcept {
    worker* w = tls_worker;
    if (!w || !w->current) [[unlikely]]
        fatal("a gorun io_uring op was awaited outside a gorun task");
    return w->io.get_sqes(out, n);
}

io_uring* io_current_ring() noexcept {
    worker* w = tls_worker;
    return w && w->io.is_open() ? w->io.raw() : nullptr;
}

}  // namespace gorun::detail
