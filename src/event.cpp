// The out-of-line parts of gorun::event (see event.hpp and docs/design/sync.md).
//
// `state_` is the only shared field: not_set, set_state, or an event_waiter* heading a LIFO
// stack of parked waiters. A waiter's fields are written by its own task before the release
// CAS that pushes it and read by the setter after the acquire exchange that takes the stack.
//
// Invariants
// - SYNC-6: no lost wake-up. A waiter decides "not set, so queue" and queues in one CAS on
//   state_; set() replaces state_ in one exchange. Either the CAS comes first (the setter's
//   exchange returns the stack holding the waiter, and wakes it) or the exchange does (the
//   CAS fails, the waiter reloads and sees set_state, and does not suspend).
// - SYNC-3: set()'s last touch of the event is its exchange; the wake-ups after it read only
//   waiter nodes, which live in the (still suspended) waiters' frames.
#include <gorun/event.hpp>

namespace gorun {

bool event::enqueue(detail::event_waiter& w, std::coroutine_handle<> h) noexcept {
    // Recorded before the push: once pushed, a set() on another worker may wake us at once.
    w.task = detail::park_current(h);
    // Acquire (on the load and on a failed CAS) pairs with set()'s exchange: a waiter that
    // finds the event set must see the setter's writes, as if it had been woken.
    std::uintptr_t s = state_.load(std::memory_order_acquire);
    for (;;) {
        if (s == set_state)
            return false;
        w.next = s == not_set ? nullptr : reinterpret_cast<detail::event_waiter*>(s);
        // Release pairs with set()'s exchange, which then reads `w`. After this CAS the task
        // may already be running elsewhere: no more touches.
        if (state_.compare_exchange_weak(
                s,
                reinterpret_cast<std::uintptr_t>(&w),
                std::memory_order_release,
                std::memory_order_acquire))
            return true;
    }
}

void event::set() noexcept {
    // Acq_rel: release publishes the setter's writes to waiters that find the event set;
    // acquire makes the pushed waiters' fields visible. The last touch of *this (SYNC-3).
    std::uintptr_t s = state_.exchange(set_state, std::memory_order_acq_rel);
    if (s == not_set || s == set_state)
        return;
    // The stack is newest first: reverse it to ready the oldest first (the order they then run
    // in is up to the scheduler).
    detail::event_waiter* head = nullptr;
    auto* w = reinterpret_cast<detail::event_waiter*>(s);
    while (w != nullptr) {
        detail::event_waiter* next = w->next;
        w->next = head;
        head = w;
        w = next;
    }
    while (head != nullptr) {
        detail::event_waiter* next = head->next;  // read first: the woken frame may go away
        detail::ready(head->task);
        head = next;
    }
}

}  // namespace gorun
