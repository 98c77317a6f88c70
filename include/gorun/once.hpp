// gorun/once.hpp — Go's sync.Once for tasks: run an initialisation exactly once.
//
//     gorun::once init;
//     co_await init.call(load_config, path);   // the first caller runs it; the others wait
//
// `f` may be a plain function or return task<T>; in the latter case the caller that runs it
// awaits it. Every call returns only after the one run of `f` has finished. As in Go, where
// Do counts as done even if f panics, a run that throws still counts: the exception goes to
// the caller that ran `f`, and every other caller (now and later) just returns (SYNC-5).
//
// Design (docs/design/sync.md): one atomic word `state_` — `idle`, `done_state`, `running`, or
// the head of a LIFO stack of waiters (each in its own frame) while running. The first caller
// claims it with a CAS from `idle`; later callers push themselves with a CAS unless the word
// says done; the runner's finish() exchanges the word for `done_state` (its last touch of the
// once, SYNC-3) and wakes the stack it took. A finished once costs one load.
#pragma once

#include <gorun/config.hpp>

#include <gorun/task.hpp>

#include <gorun/detail/task_base.hpp>

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <functional>
#include <tuple>
#include <type_traits>
#include <utility>

namespace gorun {

class once;

namespace detail {

// A task waiting for another caller's run of the function, living in its awaiter.
struct once_waiter {
    task_base* task = nullptr;
    once_waiter* next = nullptr;
};

template <class D, class... V>
class once_call_awaiter;

}  // namespace detail

/// Runs a function exactly once, however many tasks call it, and makes every caller wait
/// until that run has finished (Go's sync.Once).
///
/// Thread-safety: every member may be called from any task on any worker concurrently;
/// done() never suspends and may also be called from plain threads.
/// Memory: everything the run of `f` wrote is visible to every caller once its call returns,
/// and to whoever sees done() return true.
/// The once must outlive the tasks that use it; a task may destroy it as soon as its own call
/// returns if no other task still waits for it or is about to use it (SYNC-3).
/// On shutdown: tasks still waiting are destroyed with the runtime (so is a task in the middle
/// of running `f`: the once then never becomes done); a once that outlives the runtime keeps
/// their (now stale) entries and must not be used again.
class once {
public:
    once() noexcept = default;
    once(const once&) = delete;
    once& operator=(const once&) = delete;

    /// `co_await o.call(f, args...)`: the first caller runs `f(args...)` — awaiting it if it
    /// returns task<T>; the result is discarded — and every caller returns after that run has
    /// finished. `f` and decayed copies of `args` are kept in the awaitable (as gorun::go keeps
    /// them), so temporaries are fine. Calling `call` on the same once from within `f` would
    /// wait for itself forever; it is fatal instead (Go deadlocks).
    /// Suspends: a caller that runs `f` only where `f` does; the others while the run is in
    /// progress; no caller once done.
    /// Errors: an exception escaping `f` (or its task) propagates to the caller that ran it,
    /// and the once counts as done all the same (SYNC-5); the other callers return normally.
    /// Cancellation: none.
    template <class F, class... A>
    GORUN_NODISCARD_AWAIT detail::once_call_awaiter<std::decay_t<F>, std::decay_t<A>...>
    call(F&& f, A&&... args);

    /// True once a run of the function has finished (returned or thrown). Suspends: no.
    bool done() const noexcept {
        // Acquire pairs with finish()'s exchange: the run's writes are visible.
        return state_.load(std::memory_order_acquire) == done_state;
    }

private:
    template <class D, class... V>
    friend class detail::once_call_awaiter;

    // state_ values other than these three are a detail::once_waiter* (a waiter stack head).
    static constexpr std::uintptr_t idle = 0;
    static constexpr std::uintptr_t done_state = 1;
    static constexpr std::uintptr_t running = 2;

    // Makes the caller the runner if nobody has claimed the once yet.
    bool claim() noexcept;
    // Marks the once done and wakes every waiter; the runner's last touch of *this.
    void finish() noexcept;
    // Queues a waiter for the run in progress; false if it finished meanwhile.
    bool enqueue(detail::once_waiter& w, std::coroutine_handle<> h) noexcept;

    std::atomic<std::uintptr_t> state_{idle};
    // The task running `f`, to catch a recursive call (read by that same task: relaxed).
    std::atomic<detail::task_base*> runner_{nullptr};
};

namespace detail {

template <class D, class... V>
class once_call_awaiter {
    using result_type = std::invoke_result_t<D, V...>;
    static constexpr bool is_coroutine = is_task_v<result_type>;
    struct no_task {};
    // The task of a coroutine `f`, and its awaiter (task<T>::operator co_await refuses a
    // finished task, so the awaiter is taken before the task runs and kept for await_resume).
    struct task_run {
        result_type task;
        typename result_type::awaiter awaiter{};
    };

public:
    template <class F, class... A>
    once_call_awaiter(once& o, F&& f, A&&... args)
        : o_(&o)
        , f_(std::forward<F>(f))
        , args_(std::forward<A>(args)...) {}

    bool await_ready() {
        if (o_->done())
            return true;
        if (!o_->claim())
            return false;  // another caller runs it: wait in await_suspend
        ran_ = true;
        if constexpr (is_coroutine) {
            try {
                run_.task = std::apply(std::move(f_), std::move(args_));
                run_.awaiter = run_.task.operator co_await();  // while it is not finished
            } catch (...) {
                o_->finish();  // SYNC-5: done even though nothing ran
                throw;
            }
            return false;  // await_suspend runs the task
        } else {
            try {
                static_cast<void>(std::apply(std::move(f_), std::move(args_)));
            } catch (...) {
                o_->finish();  // SYNC-5: done even though `f` threw
                throw;
            }
            o_->finish();
            return true;
        }
    }

    // Once enqueue has returned true the task may already run elsewhere: no more touches.
    auto await_suspend(std::coroutine_handle<> h) noexcept {
        if constexpr (is_coroutine) {
            if (ran_)
                return run_.awaiter.await_suspend(h);  // into `f`'s task
            return o_->enqueue(waiter_, h) ? std::coroutine_handle<>(std::noop_coroutine()) : h;
        } else {
            return o_->enqueue(waiter_, h);
        }
    }

    void await_resume() {
        if constexpr (is_coroutine) {
            if (ran_) {
                // finish() even when the task threw (SYNC-5); the exception then propagates.
                struct finish_at_exit {
                    once* o;
                    ~finish_at_exit() { o->finish(); }
                } fin{o_};
                static_cast<void>(run_.awaiter.await_resume());
            }
        }
    }

private:
    once* o_;
    D f_;
    std::tuple<V...> args_;
    [[no_unique_address]] std::conditional_t<is_coroutine, task_run, no_task> run_{};
    once_waiter waiter_;
    bool ran_ = false;  // this caller claimed the once and runs `f`
};

}  // namespace detail

template <class F, class... A>
detail::once_call_awaiter<std::decay_t<F>, std::decay_t<A>...> once::call(F&& f, A&&... args) {
    return detail::once_call_awaiter<std::decay_t<F>, std::decay_t<A>...>(
        *this, std::forward<F>(f), std::forward<A>(args)...);
}

}  // namespace gorun
