// gorun/wait_group.hpp — Go's sync.WaitGroup.
//
//     gorun::wait_group wg;
//     for (int i = 0; i < n; ++i) wg.go(worker, i);   // add(1) + go + done() at the end
//     co_await wg.wait();
//
// Design: `count_` is the number of outstanding done() calls. Waiters sit in an intrusive
// list inside their own frames (no allocation per wait), guarded by `mu_`. wait() checks the
// count and enqueues under `mu_`; the change that brings the count to zero is made under `mu_`
// and takes the whole list, so a waiter can never enqueue after the final wake-up has been
// sent (no lost wake-up), and a waiter that sees zero may destroy the wait_group at once.
// Changes that leave the count above zero are a lock-free CAS.
#pragma once

#include <gorun/go.hpp>

#include <gorun/detail/task_base.hpp>

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <mutex>
#include <source_location>
#include <utility>

namespace gorun {

/// Waits for a collection of tasks to finish.
///
/// Thread-safety: every member may be called from any task on any worker concurrently.
/// The wait_group must outlive the tasks that call done() on it and the tasks waiting on it.
/// On shutdown: tasks still waiting are destroyed with the runtime; a wait_group that outlives
/// the runtime keeps their (now stale) entries and must not be used again.
class wait_group {
    // A waiter, living in the waiting task's frame.
    struct task_base_node {
        detail::task_base* task = nullptr;
        task_base_node* next = nullptr;
    };

public:
    wait_group() = default;
    wait_group(const wait_group&) = delete;
    wait_group& operator=(const wait_group&) = delete;

    /// Adds `n` (may be negative) to the counter. A counter going negative is fatal.
    /// When it reaches zero every waiter is woken. Suspends: no.
    void add(std::int64_t n = 1) noexcept;

    /// Decrements the counter by one. Suspends: no.
    void done() noexcept { add(-1); }

    /// The current counter (for tests and diagnostics; racy by nature).
    std::int64_t count() const noexcept { return count_.load(std::memory_order_acquire); }

    struct awaiter {
        wait_group* wg;
        task_base_node node;
        // Always takes the lock (no lock-free fast path): see wait_group.cpp on lifetime.
        bool await_ready() const noexcept { return false; }
        bool await_suspend(std::coroutine_handle<> h) noexcept { return wg->enqueue(node, h); }
        void await_resume() const noexcept {}
    };

    /// Suspends until the counter is zero. Suspends: only if the counter is not zero.
    GORUN_NODISCARD_AWAIT awaiter wait() noexcept { return awaiter{this, {}}; }

    /// go(f, args...): add(1), then starts `f(args...)` like gorun::go and calls done() when
    /// it finishes (also when it throws; the exception then goes to the panic handler). If
    /// starting it throws (making its frame), the add(1) is undone and the exception propagates.
    GORUN_DETAIL_WITH_SITE(, go, go_at)

private:
    bool enqueue(task_base_node& n, std::coroutine_handle<> h) noexcept;

    template <class F, class... A>
    void go_at(const std::source_location& site, F&& f, A&&... args) {
        add(1);
        try {
            detail::go_at(
                site,
                &run_then_done<std::decay_t<F>, std::decay_t<A>...>,
                this,
                std::forward<F>(f),
                std::forward<A>(args)...);
        } catch (...) {
            // Making the task's frame threw (bad_alloc, an argument's copy): no task runs to
            // call done(), so take back the add(1) or every wait() would hang. start_root is
            // noexcept, so nothing can throw once the task has started.
            done();
            throw;
        }
    }

    template <class D, class... V>
    static task<> run_then_done(wait_group* wg, D f, V... args) {
        // done() is called explicitly rather than from a destructor: at shutdown this frame
        // may be destroyed after the wait_group it points to, and must not touch it then.
        try {
            co_await detail::make_root(std::move(f), std::move(args)...);
        } catch (...) {
            wg->done();
            throw;
        }
        wg->done();
    }

    std::atomic<std::int64_t> count_{0};
    std::mutex mu_;
    task_base_node* waiters_ = nullptr;
};

}  // namespace gorun
