// gorun/mutex.hpp — mutual exclusion for tasks (Go's sync.Mutex, with strict FIFO hand-off).
//
//     gorun::mutex mu;
//     {
//         auto g = co_await mu.scoped_lock();   // a mutex::guard: unlocks at the end of the scope
//         ...
//     }
//     co_await mu.lock(); ...; mu.unlock();      // the same by hand
//     if (mu.try_lock()) { ...; mu.unlock(); }   // never suspends
//
// A task that finds the mutex held suspends (its worker runs other tasks) instead of blocking
// the thread. unlock() passes ownership straight to the longest waiter (SYNC-1), so a stream of
// new lockers cannot starve it; like Go's mutex, any task may unlock a mutex another locked.
//
// Design (docs/design/sync.md): one atomic word `state_` — `not_locked`, `locked_no_waiters`,
// or the head of a LIFO stack of waiters that queued since the holder last looked — plus
// `waiters_`, a FIFO list that only the holder touches. lock pushes its waiter (living in its
// own frame) onto the stack with a CAS; unlock, finding `waiters_` empty and the stack
// non-empty, takes the whole stack with one exchange, reverses it into `waiters_` (oldest
// first) and hands the mutex to the first. Uncontended lock and unlock are one CAS each.
// Invariants: SYNC-1 (FIFO hand-off, never free while a waiter is queued), SYNC-2 (at most one
// holder), SYNC-3 (a waker's last touch of the mutex comes before it wakes anyone).
// Reference: cppcoro's async_mutex (Lewis Baker), which this follows.
#pragma once

#include <gorun/config.hpp>

#include <gorun/detail/task_base.hpp>

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <mutex>
#include <utility>

namespace gorun {

class mutex;

namespace detail {

// A task waiting for a mutex, living in its awaiter (in the waiting task's frame).
struct mutex_waiter {
    task_base* task = nullptr;
    mutex_waiter* next = nullptr;
};

class mutex_lock_awaiter;
class mutex_scoped_lock_awaiter;

}  // namespace detail

/// Mutual exclusion between tasks: `co_await lock()` suspends while another task holds it.
///
/// Not recursive: a task that locks a mutex it holds waits for itself forever.
/// Thread-safety: every member may be called from any task on any worker concurrently;
/// try_lock() and unlock() never suspend and may also be called from plain threads.
/// The mutex must outlive the tasks that use it. It may be destroyed by a task as soon as that
/// task has acquired it (even when the previous holder is still returning from unlock()), as
/// long as no other task still waits for it or is about to use it (SYNC-3).
/// On shutdown: tasks still waiting are destroyed with the runtime; a mutex that outlives the
/// runtime keeps their (now stale) entries and must not be used again.
class mutex {
public:
    /// Owns a locked mutex and unlocks it when destroyed (std::unique_lock for gorun::mutex).
    ///
    /// Returned by `co_await mutex::scoped_lock()`; move-only. A guard unlocks in its
    /// destructor only where it was made — on a worker of the same runtime, or off every
    /// runtime if it was made there. When the runtime destroys a suspended task at shutdown
    /// (on a thread that is no worker of it), guards in that task's frame leave their mutex
    /// alone: the mutex and the frames of its waiters may already be gone. To hand a lock
    /// across runtimes or to a plain thread, release() it and call mutex::unlock() there
    /// (SYNC-8).
    /// Thread-safety: a guard is owned by one place at a time, like the lock it holds.
    class guard {
    public:
        /// An empty guard, owning nothing.
        guard() noexcept = default;

        /// Takes over the lock on `m`, which the caller holds (after `m.try_lock()`, say).
        guard(gorun::mutex& m, std::adopt_lock_t) noexcept
            : m_(&m)
            , rt_(detail::current_runtime()) {}

        guard(guard&& o) noexcept
            : m_(std::exchange(o.m_, nullptr))
            , rt_(o.rt_) {}

        /// Unlocks what this guard owned, then takes over `o`'s lock.
        guard& operator=(guard&& o) noexcept {
            if (this != &o) {
                release_at_end();
                m_ = std::exchange(o.m_, nullptr);
                rt_ = o.rt_;
            }
            return *this;
        }

        guard(const guard&) = delete;
        guard& operator=(const guard&) = delete;

        ~guard() { release_at_end(); }

        /// True while the guard owns a lock.
        bool owns_lock() const noexcept { return m_ != nullptr; }
        explicit operator bool() const noexcept { return m_ != nullptr; }

        /// Unlocks now; the guard is empty afterwards. Fatal on an empty guard.
        /// Suspends: no.
        void unlock() noexcept;

        /// Gives up ownership without unlocking and returns the mutex (nullptr if empty); the
        /// caller is then responsible for calling unlock() on it.
        gorun::mutex* release() noexcept { return std::exchange(m_, nullptr); }

    private:
        void release_at_end() noexcept;

        gorun::mutex* m_ = nullptr;
        detail::runtime_state* rt_ = nullptr;  // the runtime the lock was taken on, or nullptr
    };

    /// An unlocked mutex.
    mutex() noexcept = default;
    mutex(const mutex&) = delete;
    mutex& operator=(const mutex&) = delete;

    /// Acquires the mutex: `co_await m.lock();` returns holding it. Waiters are served in
    /// the order they queued (SYNC-1).
    /// Suspends: only while another task holds the mutex.
    /// Cancellation: none; a waiting task waits until it gets the mutex (or shutdown).
    GORUN_NODISCARD_AWAIT detail::mutex_lock_awaiter lock() noexcept;

    /// Like lock(), but `co_await` yields a mutex::guard that unlocks when it goes out of scope.
    /// Suspends: only while another task holds the mutex.
    /// Cancellation: none, as lock().
    GORUN_NODISCARD_AWAIT detail::mutex_scoped_lock_awaiter scoped_lock() noexcept;

    /// Acquires the mutex if it is free and nobody waits for it. Suspends: no.
    bool try_lock() noexcept {
        // Acquire pairs with the release in unlock(): the last holder's writes are visible.
        std::uintptr_t s = not_locked;
        return state_.compare_exchange_strong(
            s, locked_no_waiters, std::memory_order_acquire, std::memory_order_relaxed);
    }

    /// Releases the mutex, handing it to the longest waiter if there is one (that task then
    /// holds it; it runs when a worker picks it). Unlocking a mutex that is not locked is
    /// fatal. Suspends: no.
    void unlock() noexcept {
        // Only the holder reads `waiters_`: ownership passed to us through the acquire CAS
        // in lock/try_lock or through the wake-up of a hand-off (SYNC-1).
        if (waiters_ == nullptr) {
            std::uintptr_t s = locked_no_waiters;
            // Release pairs with the acquire CAS of the next try_lock/lock fast path. This CAS
            // is the last touch of *this (SYNC-3).
            if (state_.compare_exchange_strong(
                    s, not_locked, std::memory_order_release, std::memory_order_relaxed))
                return;
        }
        unlock_slow();
    }

private:
    friend class detail::mutex_lock_awaiter;

    // state_ values other than these two are a detail::mutex_waiter* (a waiter stack head).
    static constexpr std::uintptr_t locked_no_waiters = 0;
    static constexpr std::uintptr_t not_locked = 1;

    bool lock_slow(detail::mutex_waiter& w, std::coroutine_handle<> h) noexcept;
    void unlock_slow() noexcept;

    std::atomic<std::uintptr_t> state_{not_locked};
    detail::mutex_waiter* waiters_ = nullptr;  // FIFO, oldest first; the holder's alone
};

namespace detail {

class mutex_lock_awaiter {
public:
    explicit mutex_lock_awaiter(mutex& m) noexcept
        : m_(&m) {}
    bool await_ready() noexcept { return m_->try_lock(); }
    // After a successful enqueue the task may already run elsewhere: nothing touches *this
    // once lock_slow has returned true.
    bool await_suspend(std::coroutine_handle<> h) noexcept { return m_->lock_slow(waiter_, h); }
    void await_resume() const noexcept {}

protected:
    mutex* m_;

private:
    mutex_waiter waiter_;
};

class mutex_scoped_lock_awaiter : public mutex_lock_awaiter {
public:
    using mutex_lock_awaiter::mutex_lock_awaiter;
    mutex::guard await_resume() const noexcept { return mutex::guard(*m_, std::adopt_lock); }
};

}  // namespace detail

inline detail::mutex_lock_awaiter mutex::lock() noexcept {
    return detail::mutex_lock_awaiter(*this);
}

inline detail::mutex_scoped_lock_awaiter mutex::scoped_lock() noexcept {
    return detail::mutex_scoped_lock_awaiter(*this);
}

}  // namespace gorun
