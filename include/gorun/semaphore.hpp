// gorun/semaphore.hpp — a counting semaphore for tasks.
//
//     gorun::semaphore slots(4);          // at most four holders at once
//     co_await slots.acquire();           // suspends while no permit is free
//     ...
//     slots.release();                    // hands the permit to the longest waiter, if any
//
// Permits are not owned: any task (or plain thread) may release. Waiters are served in FIFO
// order and release() hands permits to them directly, so a free permit never sits idle while
// a task waits, and try_acquire() cannot take one from under a queued waiter (SYNC-4).
//
// Design (docs/design/sync.md): one atomic word `state_` = free permits << 1 | a lock bit
// that guards the FIFO waiter list. While the lock bit is set the count is zero (SYNC-4), so
// the fast paths — take a permit when some are free, add permits when some are free (hence no
// waiters) — are single CASes that never need the lock. A release that finds no free permits
// takes the lock, pops up to n waiters, and stores the leftover count and the unlocked bit in
// one store: that store is its last touch of the semaphore (SYNC-3).
#pragma once

#include <gorun/config.hpp>

#include <gorun/detail/task_base.hpp>

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace gorun {

class semaphore;

namespace detail {

// A task waiting for a permit, living in its awaiter (in the waiting task's frame).
struct semaphore_waiter {
    task_base* task = nullptr;
    semaphore_waiter* next = nullptr;
};

class semaphore_acquire_awaiter;

}  // namespace detail

/// A counting semaphore: acquire() takes one permit, suspending while none is free; release(n)
/// returns n.
///
/// Thread-safety: every member may be called from any task on any worker concurrently;
/// try_acquire() and release() never suspend and may also be called from plain threads.
/// The semaphore must outlive the tasks that use it; a task may destroy it as soon as its own
/// acquire returns if no other task still waits for it or is about to use it (SYNC-3).
/// On shutdown: tasks still waiting are destroyed with the runtime; a semaphore that outlives
/// the runtime keeps their (now stale) entries and must not be used again.
class semaphore {
public:
    /// The largest number of free permits a semaphore can count.
    static constexpr std::ptrdiff_t max() noexcept {
        return std::numeric_limits<std::ptrdiff_t>::max();
    }

    /// A semaphore with `initial` free permits. A negative `initial` is fatal.
    explicit semaphore(std::ptrdiff_t initial) noexcept;
    semaphore(const semaphore&) = delete;
    semaphore& operator=(const semaphore&) = delete;

    /// Takes one permit: `co_await s.acquire();` returns holding it. Waiters are served in the
    /// order they queued.
    /// Suspends: only while no permit is free (or earlier waiters are still being served).
    /// Cancellation: none; a waiting task waits until it gets a permit (or shutdown).
    GORUN_NODISCARD_AWAIT detail::semaphore_acquire_awaiter acquire() noexcept;

    /// Takes one permit if one is free. Suspends: no.
    bool try_acquire() noexcept {
        std::uintptr_t s = state_.load(std::memory_order_relaxed);
        // s >= 2: some permits are free, hence the lock bit is clear and nobody waits (SYNC-4).
        // Acquire pairs with the release CAS/store that added the permit.
        while (s >= 2) {
            if (state_.compare_exchange_weak(
                    s, s - 2, std::memory_order_acquire, std::memory_order_relaxed))
                return true;
        }
        return false;
    }

    /// Returns `n` permits: the longest waiters get them first (each woken task holds one), the
    /// rest become free. A negative `n`, or more free permits than max(), is fatal.
    /// Suspends: no.
    void release(std::ptrdiff_t n = 1) noexcept;

private:
    friend class detail::semaphore_acquire_awaiter;

    bool acquire_slow(detail::semaphore_waiter& w, std::coroutine_handle<> h) noexcept;

    static constexpr std::uintptr_t lock_bit = 1;

    std::atomic<std::uintptr_t> state_;
    // FIFO of waiters, guarded by the lock bit of state_.
    detail::semaphore_waiter* head_ = nullptr;
    detail::semaphore_waiter* tail_ = nullptr;
};

namespace detail {

class semaphore_acquire_awaiter {
public:
    explicit semaphore_acquire_awaiter(semaphore& s) noexcept
        : s_(&s) {}
    bool await_ready() noexcept { return s_->try_acquire(); }
    // Once acquire_slow has returned true the task may already run elsewhere: no more touches.
    bool await_suspend(std::coroutine_handle<> h) noexcept { return s_->acquire_slow(waiter_, h); }
    void await_resume() const noexcept {}

private:
    semaphore* s_;
    semaphore_waiter waiter_;
};

}  // namespace detail

inline detail::semaphore_acquire_awaiter semaphore::acquire() noexcept {
    return detail::semaphore_acquire_awaiter(*this);
}

}  // namespace gorun
