// The slow paths of gorun::semaphore (see semaphore.hpp and docs/design/sync.md).
//
// State: `state_` = count << 1 | lock_bit. The lock bit guards `head_`/`tail_`, the FIFO of
// waiters; it is taken only by a CAS from exactly 0 (no free permit, unlocked) to lock_bit.
//
// Invariants
// - SYNC-4: free permits and waiters never coexist: a waiter queues only when it saw zero
//   permits under the lock, and a release that finds zero permits serves waiters before it
//   makes any permit free. Hence while the lock bit is set the count is zero, and a fast-path
//   CAS (which expects a count > 0) can never succeed against a locked state — the lock
//   holder may therefore unlock with a plain store, and nobody overtakes a queued waiter.
// - SYNC-7: a negative initial count or release, or a count above max(), is fatal.
// - SYNC-3: a releaser's last touch of the semaphore is its unlocking store (slow path) or its
//   CAS (fast path); wake-ups come after, from nodes that live in the waiters' frames.
//
// Memory order: the lock CAS is acquire, the unlocking store release (they pair with each
// other: the list is handed from lock holder to lock holder). A permit added by release
// (release CAS or store) pairs with the acquire CAS of try_acquire/acquire_slow; a permit
// handed to a waiter is published by detail::ready().
//
// Rejected: a detail::spin_lock beside an atomic count. Its unlock would be a second touch
// after the count change that lets an acquirer destroy the semaphore (SYNC-3), and a
// release would need the lock to learn whether anyone waits. Folding the lock into the count
// word makes "no permits" and "may have waiters" the same observation.
#include <gorun/semaphore.hpp>

#include <gorun/detail/fatal.hpp>
#include <gorun/detail/spin_lock.hpp>

namespace gorun {

namespace {

// Backs off while another thread holds the lock bit (a few instructions' worth of work):
// pause first, then let a preempted holder run.
void backoff(int& spins) noexcept {
    if (++spins < 128) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    } else {
        detail::spin_lock_yield();
        spins = 0;
    }
}

constexpr std::uintptr_t count_max = static_cast<std::uintptr_t>(semaphore::max());

}  // namespace

semaphore::semaphore(std::ptrdiff_t initial) noexcept
    : state_(static_cast<std::uintptr_t>(initial) << 1) {
    if (initial < 0)  // SYNC-7
        detail::fatal("semaphore constructed with a negative count");
}

bool semaphore::acquire_slow(detail::semaphore_waiter& w, std::coroutine_handle<> h) noexcept {
    w.task = detail::park_current(h);
    w.next = nullptr;
    std::uintptr_t s = state_.load(std::memory_order_relaxed);
    int spins = 0;
    for (;;) {
        if (s >= 2) {
            // A permit is free (SYNC-4: then nobody waits): take it without suspending.
            if (state_.compare_exchange_weak(
                    s, s - 2, std::memory_order_acquire, std::memory_order_relaxed))
                return false;
        } else if (s == lock_bit) {
            backoff(spins);
            s = state_.load(std::memory_order_relaxed);
        } else if (state_.compare_exchange_weak(
                       s, lock_bit, std::memory_order_acquire, std::memory_order_relaxed)) {
            break;
        }
    }
    // Locked with no free permit: queue at the back.
    if (tail_)
        tail_->next = &w;
    else
        head_ = &w;
    tail_ = &w;
    // Unlock. While locked nobody else writes state_ (SYNC-4), so a store is enough; release
    // pairs with the next lock's acquire. After it a releaser may wake us at once: no more
    // touches of `w`, and the semaphore is only touched by this store.
    state_.store(0, std::memory_order_release);
    return true;
}

void semaphore::release(std::ptrdiff_t n) noexcept {
    if (n <= 0) {
        if (n < 0)  // SYNC-7
            detail::fatal("semaphore::release with a negative count");
        return;
    }
    const auto un = static_cast<std::uintptr_t>(n);
    std::uintptr_t s = state_.load(std::memory_order_relaxed);
    int spins = 0;
    for (;;) {
        if (s >= 2) {
            // Free permits, hence no waiters (SYNC-4): add ours. Release pairs with the
            // acquire CAS that will take them. This CAS is the last touch (SYNC-3).
            if ((s >> 1) > count_max - un)  // SYNC-7
                detail::fatal("semaphore::release overflows the count (more than max())");
            if (state_.compare_exchange_weak(
                    s, s + (un << 1), std::memory_order_release, std::memory_order_relaxed))
                return;
        } else if (s == lock_bit) {
            backoff(spins);
            s = state_.load(std::memory_order_relaxed);
        } else if (state_.compare_exchange_weak(
                       s, lock_bit, std::memory_order_acquire, std::memory_order_relaxed)) {
            break;
        }
    }
    // Locked with no free permit: the first `n` waiters get one each (FIFO).
    detail::semaphore_waiter* first = head_;
    detail::semaphore_waiter* last = nullptr;
    detail::semaphore_waiter* w = head_;
    std::uintptr_t served = 0;
    while (w != nullptr && served < un) {
        last = w;
        w = w->next;
        ++served;
    }
    head_ = w;
    if (w == nullptr)
        tail_ = nullptr;
    if (last != nullptr)
        last->next = nullptr;  // cut the served prefix off; its nodes are still ours to read
    else
        first = nullptr;
    // Unlock and make the leftover permits free in one store: the last touch of the semaphore
    // (SYNC-3). Release pairs with the next lock's acquire and with the acquire CAS that takes
    // a leftover permit.
    state_.store((un - served) << 1, std::memory_order_release);
    while (first != nullptr) {
        detail::semaphore_waiter* next = first->next;  // read first: the woken frame may go away
        detail::ready(first->task);
        first = next;
    }
}

}  // namespace gorun
