// The out-of-line parts of gorun::once (see once.hpp and docs/design/sync.md).
//
// `state_`: idle -> running (the runner's claim CAS) -> [a once_waiter* stack while callers
// queue] -> done_state (the runner's finish exchange). It never goes back.
//
// Invariants
// - SYNC-5: `f` runs at most once: only the CAS from idle makes a runner, and state_ never
//   returns to idle. Every call returns after the run finished: a caller either sees
//   done_state, or queues with a CAS that fails once finish() has exchanged the word (then it
//   reloads and sees done_state), or is in the stack finish() takes and wakes. finish() runs
//   on every way out of the run, an exception included.
// - SYNC-6 (as for event): checking "not done" and queueing are one CAS, so no caller can
//   queue after the finish() that should have woken it.
// - SYNC-7: a call from within the running function (same task as the runner) is fatal: it
//   would wait for itself forever.
// - SYNC-3: finish()'s last touch of the once is its exchange; the wake-ups after it read only
//   waiter nodes in the still-suspended waiters' frames.
#include <gorun/once.hpp>

#include <gorun/detail/fatal.hpp>

namespace gorun {

bool once::claim() noexcept {
    std::uintptr_t s = idle;
    // Relaxed: the runner needs nothing from earlier callers (nothing happened before it).
    if (!state_.compare_exchange_strong(
            s, running, std::memory_order_relaxed, std::memory_order_relaxed))
        return false;
    // Only the runner itself compares against this (a recursive call comes from the same
    // task, in program order), so relaxed is enough; other tasks may read either value and
    // both differ from theirs.
    runner_.store(detail::current_task(), std::memory_order_relaxed);
    return true;
}

void once::finish() noexcept {
    // Acq_rel: release publishes the run's writes to callers that then see done_state (their
    // acquire load or failed CAS); acquire makes the pushed waiters' fields visible.
    std::uintptr_t s = state_.exchange(done_state, std::memory_order_acq_rel);
    GORUN_ASSERT(s != idle && s != done_state, "SYNC-5: once finished without a run in progress");
    if (s == running)
        return;
    // The stack is newest first: reverse it to ready the oldest first (the order they then run
    // in is up to the scheduler).
    detail::once_waiter* head = nullptr;
    auto* w = reinterpret_cast<detail::once_waiter*>(s);
    while (w != nullptr) {
        detail::once_waiter* next = w->next;
        w->next = head;
        head = w;
        w = next;
    }
    while (head != nullptr) {
        detail::once_waiter* next = head->next;  // read first: the woken frame may go away
        detail::ready(head->task);
        head = next;
    }
}

bool once::enqueue(detail::once_waiter& w, std::coroutine_handle<> h) noexcept {
    // Recorded before the push: once pushed, finish() on another worker may wake us at once.
    w.task = detail::park_current(h);
    if (w.task == runner_.load(std::memory_order_relaxed))  // SYNC-7
        detail::fatal("once::call called from within the function it is running (it would wait "
                      "for itself forever)");
    // Acquire (load and failed CAS) pairs with finish()'s exchange: a caller that finds the
    // once done sees what the run wrote, as if it had been woken.
    std::uintptr_t s = state_.load(std::memory_order_acquire);
    for (;;) {
        if (s == done_state)
            return false;
        GORUN_ASSERT(s != idle, "SYNC-5: a caller queued on a once nobody runs");
        w.next = s == running ? nullptr : reinterpret_cast<detail::once_waiter*>(s);
        // Release pairs with finish()'s exchange, which then reads `w`. After this CAS the task
        // may already be running elsewhere: no more touches.
        if (state_.compare_exchange_weak(
                s,
                reinterpret_cast<std::uintptr_t>(&w),
                std::memory_order_release,
                std::memory_order_acquire))
            return true;
    }
}

}  // namespace gorun
