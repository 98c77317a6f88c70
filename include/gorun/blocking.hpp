// gorun/blocking.hpp — running a blocking call without blocking a worker.
//
//     auto addrs = co_await gorun::blocking([&] { return resolve(host); });  // getaddrinfo
//     co_await gorun::blocking([&] { heavy_cpu_work(data); });
//
// Workers must never block: a task that calls a blocking function stalls every task queued on
// its worker. blocking(fn) runs fn on the runtime's elastic thread pool (Go hands its P away
// during a syscall; Tokio has spawn_blocking) and suspends the task until fn returns; the task
// then continues on a worker with fn's result, or fn's exception rethrown. The pool starts
// threads on demand up to runtime_options::blocking_threads (calls beyond wait in FIFO order),
// and a thread idle for runtime_options::blocking_idle exits.
//
// fn runs on another thread while the task is suspended, so it may refer to the task's locals
// (capture by reference) but must not use gorun awaitables (it is not a task).
#pragma once

#include <gorun/config.hpp>

#include <gorun/detail/task_base.hpp>

#include <coroutine>
#include <exception>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

namespace gorun {

namespace detail {

// A call queued on or running in the blocking pool; lives in the awaiting frame.
struct blocking_job {
    void (*run)(blocking_job*) noexcept = nullptr;  // calls fn, stores the result, ready(task)
    task_base* task = nullptr;
    blocking_job* next = nullptr;  // the pool's FIFO link
};

// Parks the running task (resuming `h` later) and queues `job` on its runtime's pool.
void blocking_submit(blocking_job& job, std::coroutine_handle<> h) noexcept;

template <class F>
class blocking_awaiter : blocking_job {
    using R = std::invoke_result_t<F&>;
    // void -> bool, T& -> T*, T -> T
    using stored = std::conditional_t<
        std::is_void_v<R>,
        bool,
        std::conditional_t<std::is_reference_v<R>, std::remove_reference_t<R>*, R>>;

public:
    explicit blocking_awaiter(F f)
        : fn_(std::move(f)) {
        run = &call;
    }
    blocking_awaiter(const blocking_awaiter&) = delete;
    blocking_awaiter& operator=(const blocking_awaiter&) = delete;

    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) noexcept { blocking_submit(*this, h); }
    R await_resume() {
        if (error_)
            std::rethrow_exception(error_);
        if constexpr (std::is_void_v<R>)
            return;
        else if constexpr (std::is_reference_v<R>)
            return static_cast<R>(**result_);
        else
            return std::move(*result_);
    }

private:
    static void call(blocking_job* j) noexcept {
        auto* self = static_cast<blocking_awaiter*>(j);
        try {
            if constexpr (std::is_void_v<R>) {
                std::invoke(self->fn_);
                self->result_.emplace(true);
            } else if constexpr (std::is_reference_v<R>) {
                self->result_.emplace(&std::invoke(self->fn_));
            } else {
                self->result_.emplace(std::invoke(self->fn_));
            }
        } catch (...) {
            self->error_ = std::current_exception();
        }
        // The last touch of the frame on this thread: the task may run (and end) at once.
        ready(self->task);
    }

    F fn_;
    std::optional<stored> result_;
    std::exception_ptr error_;
};

}  // namespace detail

/// Runs `fn()` on the runtime's blocking pool and yields its result (or rethrows its
/// exception).
///
/// Suspends: always, until fn returns. Thread-safety: call from a gorun task; fn runs on a
/// pool thread, never on a worker. Cancellation: none — fn runs to its end (a blocking call
/// cannot be interrupted in general). On shutdown: calls still queued are dropped with their
/// tasks; shutdown waits for calls already running to return, so fn must not block forever.
template <class F>
GORUN_NODISCARD_AWAIT detail::blocking_awaiter<std::decay_t<F>> blocking(F&& fn) {
    return detail::blocking_awaiter<std::decay_t<F>>(std::forward<F>(fn));
}

}  // namespace gorun
