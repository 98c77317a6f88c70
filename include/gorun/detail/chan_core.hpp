// The untyped core of channels and select: waiters (Go's sudog) and their queues.
//
// A waiter lives in the frame of the task that waits (inside its awaiter), never on the heap.
// It is linked into one channel's recvq or sendq while its task is parked; everything about
// it is guarded by that channel's lock. A select parks one waiter per case, all pointing at
// one select_state; the first completer wins a CAS on `select_state::winner`, and every other
// completer that dequeues a losing waiter skips it (Go's selectDone). A waiter that is not
// part of a select has `sel == nullptr` and is always taken.
//
// Plain threads (blocking_send/blocking_recv) wait with a `thread_waiter` instead of a task.
#pragma once

#include <gorun/detail/task_base.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace gorun::detail {

// Shared by the waiters of one select.
struct select_state {
    std::atomic<int> winner{-1};  // the case that completed, or -1
};

// A plain thread's way to wait for a channel operation (blocking_send / blocking_recv).
// The waker notifies while holding `mu`, so the waiter cannot return and destroy this object
// before the waker is done with it.
struct thread_waiter {
    std::mutex mu;
    std::condition_variable cv;
    bool woken = false;
    void wake() noexcept {
        std::lock_guard lock(mu);
        woken = true;
        cv.notify_one();
    }
    void wait() {
        std::unique_lock lock(mu);
        cv.wait(lock, [this] { return woken; });
    }
};

enum class wait_result : std::uint8_t { pending, done, closed };

struct chan_waiter {
    chan_waiter* prev = nullptr;
    chan_waiter* next = nullptr;
    union {
        task_base* task = nullptr;  // the parked task (is_thread == false)
        thread_waiter* thread;      // the blocked plain thread (is_thread == true)
    };
    select_state* sel = nullptr;  // set when part of a select
    void* slot = nullptr;         // recv: std::optional<T>* to fill; send: T* to take
    int case_index = 0;           // for select
    bool queued = false;          // linked in a queue (guarded by the channel lock)
    bool is_thread = false;
    wait_result result = wait_result::pending;

    // Claims this waiter for completion. Plain waiters always succeed; a select waiter only
    // if no other case of its select has completed (CH-1/SEL-1: exactly one case commits).
    bool claim() noexcept {
        if (!sel)
            return true;
        int expected = -1;
        return sel->winner.compare_exchange_strong(
            expected, case_index, std::memory_order_acq_rel, std::memory_order_acquire);
    }

    // Wakes the waiter's task or thread. After this the waiter's frame may be gone: the
    // caller must not touch `this` again.
    void wake() noexcept {
        if (is_thread)
            thread->wake();
        else
            ready(task);
    }
};

// FIFO of waiters (Go's waitq). Guarded by the channel's lock.
struct wait_queue {
    chan_waiter* first_ = nullptr;
    chan_waiter* last = nullptr;

    chan_waiter* first() const noexcept { return first_; }
    bool empty() const noexcept { return first() == nullptr; }

    void push(chan_waiter* w) noexcept {
        w->next = nullptr;
        w->prev = last;
        if (last)
            last->next = w;
        else
            first_ = w;
        last = w;
        w->queued = true;
    }

    void remove(chan_waiter* w) noexcept {
        if (!w->queued)
            return;
        if (w->prev)
            w->prev->next = w->next;
        else
            first_ = w->next;
        if (w->next)
            w->next->prev = w->prev;
        else
            last = w->prev;
        w->prev = w->next = nullptr;
        w->queued = false;
    }

    // Dequeues the first waiter that can be claimed; losers of a finished select are unlinked
    // on the way (their owners find them unqueued when they clean up).
    chan_waiter* pop_claimed() noexcept {
        while (chan_waiter* w = first()) {
            remove(w);
            if (w->claim())
                return w;
        }
        return nullptr;
    }
};

// A timer that completes a select case (after(d), timeouts). Unlike a sleep's node it is not
// part of the waiting frame but owned by the heap of the worker that armed it, because the
// select may end on another worker and must be able to withdraw the timer from there without
// touching that worker's heap: it flips the timer to a cancelled tombstone, which the owner
// drops later (src/select_timer.cpp, docs/design/select.md).
struct select_timer;

// Arms a timer on the current worker that, at `deadline_ns`, claims `w` and wakes its task.
select_timer* arm_select_timer(std::int64_t deadline_ns, chan_waiter* w) noexcept;

// Withdraws the timer, from any thread. On return the timer no longer touches `w`, and the
// caller no longer owns `t`. Must be called exactly once per armed timer, also when the timer
// fired (it frees it then).
void release_select_timer(select_timer* t) noexcept;

}  // namespace gorun::detail
