// gorun/event.hpp — a manual-reset event: tasks wait until it is set.
//
//     gorun::event ready;
//     co_await ready.wait();   // in any number of tasks: suspends until set()
//     ready.set();             // wakes them all; later waits pass at once until reset()
//
// Like closing a Go channel that nobody sends on, set() releases every waiter, present and
// future; unlike a channel, reset() arms the event again.
//
// Design (docs/design/sync.md): one atomic word `state_` — `not_set`, `set_state`, or the head
// of a LIFO stack of waiters, which live in their own frames. wait() pushes its waiter with a
// CAS unless the word says set; set() exchanges the word for `set_state` and wakes the stack
// it took (readying the oldest first). A waiter's check and its push are one CAS, so it cannot
// queue after the set() that should have released it (SYNC-6), and the exchange is set()'s last
// touch of the event, so a waiter may destroy the event as soon as its wait returns (SYNC-3).
// Reference: cppcoro's async_manual_reset_event.
#pragma once

#include <gorun/config.hpp>

#include <gorun/detail/task_base.hpp>

#include <atomic>
#include <coroutine>
#include <cstdint>

namespace gorun {

class event;

namespace detail {

// A task waiting for an event, living in its awaiter (in the waiting task's frame).
struct event_waiter {
    task_base* task = nullptr;
    event_waiter* next = nullptr;
};

class event_wait_awaiter;

}  // namespace detail

/// A manual-reset event: wait() suspends until the event is set; set() releases every waiter
/// and keeps the event set until reset().
///
/// Thread-safety: every member may be called from any task on any worker concurrently;
/// set(), reset() and is_set() never suspend and may also be called from plain threads.
/// Memory: what a task wrote before set() is visible to every task whose wait() that set()
/// released or that then sees is_set().
/// The event must outlive the tasks that use it; a task may destroy it as soon as its own
/// wait() returns if no other task still waits for it or is about to use it (SYNC-3).
/// On shutdown: tasks still waiting are destroyed with the runtime; an event that outlives the
/// runtime keeps their (now stale) entries and must not be used again.
class event {
public:
    /// An event that is not set, or set if `initially_set`.
    explicit event(bool initially_set = false) noexcept
        : state_(initially_set ? set_state : not_set) {}
    event(const event&) = delete;
    event& operator=(const event&) = delete;

    /// Waits until the event is set: `co_await e.wait();`.
    /// Suspends: only while the event is not set.
    /// Cancellation: none; a waiting task waits until set() (or shutdown).
    GORUN_NODISCARD_AWAIT detail::event_wait_awaiter wait() noexcept;

    /// Sets the event and wakes every waiting task. Setting a set event does
    /// nothing more. Suspends: no.
    void set() noexcept;

    /// Makes the event not set, so that later waits suspend again; tasks already released keep
    /// going. Resetting an event that is not set does nothing. Suspends: no.
    void reset() noexcept {
        // Acq_rel so that reset() orders like set(): a set() that follows sees what came before.
        std::uintptr_t s = set_state;
        state_.compare_exchange_strong(
            s, not_set, std::memory_order_acq_rel, std::memory_order_relaxed);
    }

    /// True while the event is set (a snapshot: it may change at once). Suspends: no.
    bool is_set() const noexcept {
        // Acquire pairs with set()'s exchange: the setter's writes are visible.
        return state_.load(std::memory_order_acquire) == set_state;
    }

private:
    friend class detail::event_wait_awaiter;

    // state_ values other than these two are a detail::event_waiter* (a waiter stack head).
    static constexpr std::uintptr_t not_set = 0;
    static constexpr std::uintptr_t set_state = 1;

    bool enqueue(detail::event_waiter& w, std::coroutine_handle<> h) noexcept;

    std::atomic<std::uintptr_t> state_;
};

namespace detail {

class event_wait_awaiter {
public:
    explicit event_wait_awaiter(event& e) noexcept
        : e_(&e) {}
    bool await_ready() const noexcept { return e_->is_set(); }
    // Once enqueue has returned true the task may already run elsewhere: no more touches.
    bool await_suspend(std::coroutine_handle<> h) noexcept { return e_->enqueue(waiter_, h); }
    void await_resume() const noexcept {}

private:
    event* e_;
    event_waiter waiter_;
};

}  // namespace detail

inline detail::event_wait_awaiter event::wait() noexcept {
    return detail::event_wait_awaiter(*this);
}

}  // namespace gorun
