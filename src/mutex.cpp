// The slow paths of gorun::mutex (see mutex.hpp and docs/design/sync.md).
//
// Fields and who touches them
// - `state_` (atomic): everyone. not_locked, locked_no_waiters, or a mutex_waiter* heading a
//   LIFO stack of waiters pushed since the holder last emptied it.
// - `waiters_` (plain): only the current holder. Ownership moves from holder to holder through
//   the state_ CAS pair (unlock's release, lock's acquire) or through a hand-off, whose
//   detail::ready() publishes everything the waker wrote (run-queue release/acquire).
// - a waiter's fields: written by its own task before the release CAS that pushes it, read
//   by the holder after the acquire exchange that takes the stack.
//
// Invariants
// - SYNC-1: the mutex is never not_locked while a waiter is queued (on the stack or in
//   `waiters_`); unlock with waiters keeps it locked and makes the oldest waiter the holder.
//   So neither lock() nor try_lock() can overtake a queued waiter, and waiters are served in
//   the order their push CAS succeeded.
// - SYNC-2: at most one holder: the only transitions out of not_locked are the acquire CAS of
//   try_lock/lock_slow, and ownership otherwise moves only by hand-off.
// - SYNC-3: a waker's last touch of the mutex precedes detail::ready(): the woken task may
//   destroy the mutex as soon as it runs. unlock's fast path ends with its CAS.
// - SYNC-7: unlocking a mutex that is not locked is fatal (detected when the fast path's CAS
//   fails and the state says not_locked).
// - SYNC-8: a guard unlocks in its destructor only on the runtime it was made on (see
//   release_at_end).
//
// Rejected: a spin_lock-guarded FIFO list beside a state word. It costs a lock round trip on
// every contended lock and unlock, where the stack costs one CAS to queue and one exchange per
// batch of waiters; and a spin lock's unlock would be one more touch of the object after the
// state change that lets a woken task destroy it.
#include <gorun/mutex.hpp>

#include <gorun/detail/fatal.hpp>

namespace gorun {

bool mutex::lock_slow(detail::mutex_waiter& w, std::coroutine_handle<> h) noexcept {
    // Recorded before the push: once pushed, an unlock on another worker may wake us at once.
    w.task = detail::park_current(h);
    std::uintptr_t s = state_.load(std::memory_order_relaxed);
    for (;;) {
        if (s == not_locked) {
            // Freed meanwhile: take it without suspending. Acquire pairs with unlock's release.
            if (state_.compare_exchange_weak(
                    s, locked_no_waiters, std::memory_order_acquire, std::memory_order_relaxed))
                return false;
        } else {
            w.next = s == locked_no_waiters ? nullptr : reinterpret_cast<detail::mutex_waiter*>(s);
            // Release pairs with the acquire exchange in unlock_slow, which then reads `w`.
            // After this CAS the task may already be running elsewhere: no more touches.
            if (state_.compare_exchange_weak(
                    s,
                    reinterpret_cast<std::uintptr_t>(&w),
                    std::memory_order_release,
                    std::memory_order_relaxed))
                return true;
        }
    }
}

void mutex::unlock_slow() noexcept {
    detail::mutex_waiter* head = waiters_;
    if (head == nullptr) {
        // The fast path's CAS failed: the mutex is not locked (misuse) or waiters were pushed.
        // Only the holder empties the stack, so for a correct caller it is still non-empty.
        std::uintptr_t s = state_.load(std::memory_order_relaxed);
        if (s == not_locked)  // SYNC-7
            detail::fatal("mutex::unlock on a mutex that is not locked");
        // Take every queued waiter; the mutex stays locked (SYNC-1). Acquire pairs with the
        // pushes' release: their `task` and `next` fields are visible.
        s = state_.exchange(locked_no_waiters, std::memory_order_acquire);
        if (s == not_locked || s == locked_no_waiters)  // SYNC-7
            detail::fatal("mutex::unlock raced with another unlock of the same mutex");
        // The stack is newest first; reverse it so the oldest waiter is served first.
        auto* w = reinterpret_cast<detail::mutex_waiter*>(s);
        do {
            detail::mutex_waiter* next = w->next;
            w->next = head;
            head = w;
            w = next;
        } while (w != nullptr);
    }
    // Hand-off (SYNC-1): `head` is the holder now. This write is our last touch of *this
    // (SYNC-3); ready() publishes it and everything the critical section wrote.
    waiters_ = head->next;
    detail::ready(head->task);
}

void mutex::guard::unlock() noexcept {
    if (m_ == nullptr)
        detail::fatal("mutex::guard::unlock on a guard that owns no lock");
    std::exchange(m_, nullptr)->unlock();
}

void mutex::guard::release_at_end() noexcept {
    if (m_ == nullptr)
        return;
    // SYNC-8: at shutdown the runtime destroys suspended frames on a thread that is not one of its
    // workers. The mutex and the frames holding its waiters may already be destroyed (nested
    // frames are freed at once), so unlocking there could read freed memory: leave it.
    if (detail::current_runtime() == rt_)
        m_->unlock();
    m_ = nullptr;
}

}  // namespace gorun
