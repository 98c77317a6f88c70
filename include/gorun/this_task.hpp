// gorun/this_task.hpp — the running task: its id and name, and yielding the worker.
//
//     gorun::this_task::set_name("accept loop");   // shows in runtime dumps
//     co_await gorun::yield();                      // let other tasks run
#pragma once

#include <gorun/config.hpp>

#include <coroutine>
#include <cstdint>

namespace gorun {

namespace detail {
void yield_current(std::coroutine_handle<> h) noexcept;
struct yield_awaiter {
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) noexcept { yield_current(h); }
    void await_resume() const noexcept {}
};
}  // namespace detail

/// Lets other runnable tasks run before the caller continues (Go's runtime.Gosched): the task
/// goes to the runtime's global queue, where any worker may pick it up.
///
/// Suspends: always, briefly. Long CPU work in a task should yield now and then: scheduling is
/// cooperative, a task that never suspends keeps its worker.
GORUN_NODISCARD_AWAIT inline detail::yield_awaiter yield() noexcept {
    return {};
}

namespace this_task {

/// The running task's id: unique within the process, never 0. Returns 0 outside a task.
std::uint64_t id() noexcept;

/// The running task's name, or nullptr.
const char* name() noexcept;

/// Names the running task for dumps. `name` must outlive the task (a string literal).
void set_name(const char* name) noexcept;

}  // namespace this_task
}  // namespace gorun
