// See wait_group.hpp.
#include <gorun/wait_group.hpp>

namespace gorun {

// Lifetime rule this code keeps: the waiter that sees the counter at zero may destroy the
// wait_group at once (it usually lives in that waiter's frame). So the transition to zero
// and the zero check of a waiter both happen under `mu_`: the decrementer's last touch of
// *this is its unlock, and POSIX allows destroying a mutex as soon as it is unlocked. A change
// that cannot reach zero needs no lock: the CAS below only succeeds for such changes.
void wait_group::add(std::int64_t n) noexcept {
    std::int64_t c = count_.load(std::memory_order_relaxed);
    while (c + n > 0) {
        if (count_.compare_exchange_weak(c, c + n, std::memory_order_acq_rel))
            return;
    }
    task_base_node* list = nullptr;
    {
        std::lock_guard lock(mu_);
        std::int64_t v = count_.fetch_add(n, std::memory_order_acq_rel) + n;
        if (v < 0)
            detail::fatal("wait_group counter went negative (more done() than add())");
        if (v == 0)
            list = std::exchange(waiters_, nullptr);
    }
    while (list) {
        task_base_node* next = list->next;  // read first: the woken frame may go away
        detail::ready(list->task);
        list = next;
    }
}

bool wait_group::enqueue(task_base_node& n, std::coroutine_handle<> h) noexcept {
    std::lock_guard lock(mu_);
    if (count_.load(std::memory_order_acquire) == 0)
        return false;
    n.task = detail::park_current(h);
    n.next = waiters_;
    waiters_ = &n;
    return true;
}

}  // namespace gorun
