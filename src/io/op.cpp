// I/O operations on the worker's ring: starting, completing, cancelling, and the shutdown drain.
//
// include/gorun/detail/io_op.hpp states the op states and the cancel protocol (IO-1);
// docs/design/io.md walks through the interleavings. In short:
// - io_begin (home worker): parks the task, links the op into the worker's in-flight list,
//   arms the deadline timer.
// - io_complete (home worker, from reap): counts CQEs down; on the last one disarms the
//   timer, unlinks, and moves the state to done; the task is resumed unless a remote cancel
//   request still has the op in the io_cancels list (then the list pop resumes it).
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

#include "runtime_state.hpp"

#include <fmt/format.h>

#include <liburing.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace gorun::detail {

namespace {

void resume_op(worker& w, io_op& op, bool cancelled) noexcept {
    op.cancelled = cancelled;
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

// Prepares an ASYNC_CANCEL for every slot of `op` still pending (home worker only).
void submit_cancels(worker& w, io_op& op) noexcept {
    w.stat_io_cancels.inc();
    // A flush inside get_sqes may reap (on -EBUSY), which may complete this very op: defer its
    // resumption until we are done with it.
    op.busy = true;
    for (std::uint32_t i = 0; i < op.nslots; ++i) {
        if (op.slots[i].done)
            continue;
        io_uring_sqe* sqe = nullptr;
        while (w.io.get_sqes(&sqe, 1) < 0)
            w.io.poll();
        io_uring_prep_cancel64(sqe, reinterpret_cast<std::uintptr_t>(&op.slots[i]), 0);
        io_uring_sqe_set_data64(sqe, ring::tag_ignore);
        sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
    }
    op.busy = false;
    if (op.resume_deferred) {
        op.resume_deferred = false;
        resume_op(w, op, true);
    }
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

void io_begin(
    io_op& op,
    std::coroutine_handle<> h,
    io_cqe_slot* slots,
    unsigned n,
    std::int64_t deadline_ns) noexcept {
    worker& w = *tls_worker;  // io_get_sqes checked it
    op.task = park_current(h);
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

void io_complete(io_cqe_slot* slot, std::int32_t res, std::uint32_t flags) noexcept {
    io_op& op = *slot->op;
    // An io-wq op interrupted by a cancel may report the kernel-internal -ERESTARTSYS (512)
    // .. -ERESTART_RESTARTBLOCK (516) (seen on 6.18 with a blocking splice): fold into -EINTR.
    if (res <= -512 && res >= -516) [[unlikely]]
        res = -EINTR;
    slot->res = res;
    slot->flags = flags;
    // A multishot SQE posts CQEs flagged MORE before its last one; only the last ends it.
    if (flags & IORING_CQE_F_MORE)
        return;
    slot->done = true;
    if (--op.pending != 0)
        return;
    worker& w = *op.home;
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
        op.resume_deferred = true;  // submit_cancels is working on it (see there)
        return;
    }
    resume_op(w, op, s != io_armed);
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
    while (w.io_in_flight > 0) {
        w.io.wait(50'000'000);
        io_process_cancels(w);  // late remote cancel requests: nothing to deliver
        if (now_ns() >= next_retry) {
            // Something did not yield to the first cancel (an io-wq op in progress): ask again.
            cancel_all();
            next_retry = now_ns() + 1'000'000'000;
        }
    }
}

void io_dump(const worker& w, std::FILE* out) noexcept {
    if (!w.io.is_open())
        return;
    static constexpr const char* state_names[] = {"armed", "cancel_queued", "cancel_sent", "done"};
    fmt::print(
        out,
        "    io: {} in flight, cancel requests {}, {}\n",
        w.io_in_flight,
        w.io_cancels.load(std::memory_order_relaxed) ? "queued" : "none",
        w.io.dump_state());
    int shown = 0;
    for (const io_op* op = w.io_ops; op; op = op->next) {
        if (++shown > 16) {
            fmt::print(out, "      ...\n");
            break;
        }
        std::uint8_t s = op->state.load(std::memory_order_relaxed);
        fmt::print(
            out,
            "      op {}: {} pending {}/{}{}{}{}{} |",
            static_cast<const void*>(op),
            s <= io_done ? state_names[s] : "?",
            op->pending,
            op->nslots,
            op->armed ? " deadline" : "",
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
