// gorun/this_task.hpp — the running task: its id and name, its cancellation context, and
// yielding the worker.
//
//     gorun::this_task::set_name("accept loop");   // shows in runtime dumps
//     co_await gorun::yield();                      // let other tasks run
//     if (gorun::this_task::stop_requested()) co_return;   // our task_group was cancelled
//
// Cancellation context: a task started by a task_group, when_all or when_any runs in that
// scope and inherits its stop token and deadline — Go's context.Context, passed implicitly.
// Nested scopes link their stop token to the enclosing one and take the earlier deadline.
// Cancellation is cooperative, as in Go: a task observes it by checking stop_requested(),
// or by waiting in a select with a gorun::cancelled() case. Tasks started with go/spawn
// belong to no scope (they may outlive it): their stop token is empty, their deadline none.
#pragma once

#include <gorun/config.hpp>

#include <chrono>
#include <coroutine>
#include <cstdint>
#include <optional>
#include <stop_token>

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

/// The stop token of the scope the running task belongs to (see the top of this header); an
/// empty token (stop_possible() false) for a task of no scope or outside a task.
std::stop_token stop_token() noexcept;

/// True once the running task's scope has been cancelled (an error in a sibling, the
/// scope's deadline, an enclosing scope's cancellation, or an explicit cancel()).
bool stop_requested() noexcept;

/// The running task's deadline (the earliest of its enclosing scopes'), if it has one. The
/// scope's stop token is requested when it passes.
std::optional<std::chrono::steady_clock::time_point> deadline() noexcept;

}  // namespace this_task
}  // namespace gorun
