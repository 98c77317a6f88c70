// The untyped core of channels and select: waiters (Go's sudog) and their queues.
//
// A waiter lives in the frame of the task that waits (inside its awaiter), never on the heap.
// It is linked into one channel's recvq or sendq while its task is parked; everything about
// it is guarded by that channel's lock. A select parks one waiter per case, all pointing at
// one select_state; the first completer wins a CAS on `select_state::winner`, and every other
// completer that dequeues a losing waiter skips it (Go's selectDone). A waiter that is not
// part of a select (kind task or thread) is always taken.
//
// Plain threads (blocking_send/blocking_recv) wait with a `thread_waiter` instead of a task.
#pragma once

#include <gorun/detail/task_base.hpp>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>

namespace gorun::detail {

// Shared by the waiters of one select.
struct select_state {
    std::atomic<int> winner{-1};  // the case that completed, or -1
    task_base* task = nullptr;    // the parked task, woken by whichever case wins
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

// Who a waiter wakes. A select's waiters all wake the select's task, which lives in their
// shared select_state, so one pointer (the union below) serves all three kinds and a parked
// task's waiter costs 40 bytes of its frame.
enum class waiter_kind : std::uint8_t { task, thread, select };

struct chan_waiter {
    chan_waiter* prev = nullptr;
    chan_waiter* next = nullptr;
    union {
        task_base* task = nullptr;  // kind == task: the parked task
        thread_waiter* thread;      // kind == thread: the blocked plain thread
        select_state* sel;          // kind == select: the select this waiter is a case of
    };
    void* slot = nullptr;         // recv: std::optional<T>* to fill; send: T* to take
    std::uint8_t case_index = 0;  // kind == select: which case (select has <= 255)
    waiter_kind kind = waiter_kind::task;
    bool queued = false;  // linked in a queue (guarded by the channel lock)
    wait_result result = wait_result::pending;

    void set_task(task_base* t) noexcept {
        task = t;
        kind = waiter_kind::task;
    }
    void set_thread(thread_waiter* t) noexcept {
        thread = t;
        kind = waiter_kind::thread;
    }
    void set_select(select_state* s, std::size_t index) noexcept {
        sel = s;
        case_index = static_cast<std::uint8_t>(index);
        kind = waiter_kind::select;
    }

    // Claims this waiter for completion. Plain waiters always succeed; a select waiter only
    // if no other case of its select has completed (CH-1/SEL-1: exactly one case commits).
    bool claim() noexcept {
        if (kind != waiter_kind::select)
            return true;
        int expected = -1;
        return sel->winner.compare_exchange_strong(
            expected, case_index, std::memory_order_acq_rel, std::memory_order_acquire);
    }

    // True while the waiter can still be claimed (white-box tests count parked waiters).
    bool claimable() const noexcept {
        return kind != waiter_kind::select || sel->winner.load(std::memory_order_acquire) < 0;
    }

    // The task this waiter wakes (nullptr for a plain thread).
    task_base* waking_task() const noexcept {
        switch (kind) {
            case waiter_kind::task:
                return task;
            case waiter_kind::select:
                return sel->task;
            case waiter_kind::thread:
                break;
        }
        return nullptr;
    }

    // Wakes the waiter's task or thread. After this the waiter's frame may be gone: the
    // caller must not touch `this` again.
    void wake() noexcept {
        if (kind == waiter_kind::thread)
            thread->wake();
        else
            ready(waking_task());
    }
};
static_assert(sizeof(chan_waiter) <= 40, "a parked task's waiter: 4 pointers and 4 bytes");

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

    // How many waiters could still be claimed (white-box tests; guarded by the lock).
    std::size_t claimable_count() const noexcept {
        std::size_t n = 0;
        for (const chan_waiter* w = first(); w; w = w->next)
            n += w->claimable() ? 1 : 0;
        return n;
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
