// The runtime's global (inject) queue: tasks started or woken from threads that are not
// workers, tasks that yielded, and the overflow of full local queues.
//
// A mutex-guarded intrusive FIFO through task_base::link_. It is off the hot path (workers
// look at it every 61 scheduling ticks and when their own queue is empty), so a lock is
// simpler and no slower in practice than a lock-free queue. `size_` lets workers skip the lock
// when it is empty; it is updated with seq_cst inside the lock so that "push, then check for
// parked workers" on the producer side and "publish idle, then check this queue" on the parking
// side cannot both miss each other (SCHED-2, docs/design/scheduler.md).
#pragma once

#include <gorun/detail/task_base.hpp>

#include <atomic>
#include <cstddef>
#include <mutex>

namespace gorun::detail {

class inject_queue {
public:
    void push(task_base* t) noexcept { push_batch(t, t, 1); }

    // Pushes the list first..last (linked through link_) of n tasks.
    void push_batch(task_base* first, task_base* last, std::size_t n) noexcept {
        last->link_ = nullptr;
        std::lock_guard lock(mu_);
        if (tail_)
            tail_->link_ = first;
        else
            head_ = first;
        tail_ = last;
        size_.fetch_add(n, std::memory_order_seq_cst);
    }

    // Pops up to `max` tasks as a list linked through link_; returns the head, count in *n.
    task_base* pop_batch(std::size_t max, std::size_t* n) noexcept {
        *n = 0;
        if (size_.load(std::memory_order_seq_cst) == 0)
            return nullptr;
        std::lock_guard lock(mu_);
        task_base* first = head_;
        task_base* last = nullptr;
        while (head_ && *n < max) {
            last = head_;
            head_ = head_->link_;
            ++*n;
        }
        if (!head_)
            tail_ = nullptr;
        if (last)
            last->link_ = nullptr;
        size_.fetch_sub(*n, std::memory_order_seq_cst);
        return *n ? first : nullptr;
    }

    std::size_t size() const noexcept { return size_.load(std::memory_order_seq_cst); }

private:
    std::mutex mu_;
    task_base* head_ = nullptr;
    task_base* tail_ = nullptr;
    std::atomic<std::size_t> size_{0};
};

}  // namespace gorun::detail
