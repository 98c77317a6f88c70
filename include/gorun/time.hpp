// gorun/time.hpp — sleeping.
//
//     co_await gorun::sleep_for(10ms);
//     co_await gorun::sleep_until(deadline);
//
// A sleeping task costs one timer node inside its own frame and one slot in the timer heap of
// the worker it slept on; there is no kernel timer per sleep, so a million pending sleeps are
// cheap. The worker's park timeout is its nearest deadline. Timers are driven by
// std::chrono::steady_clock.
#pragma once

#include <gorun/detail/timer.hpp>

#include <chrono>
#include <coroutine>
#include <cstdint>

namespace gorun {

using clock = std::chrono::steady_clock;

namespace detail {

struct sleep_awaiter {
    timer_node node;
    bool await_ready() const noexcept { return node.deadline_ns <= now_ns(); }
    void await_suspend(std::coroutine_handle<> h) noexcept { sleep_on_current_worker(node, h); }
    void await_resume() const noexcept {}
};

inline std::int64_t to_ns(clock::time_point t) noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

}  // namespace detail

/// Suspends the calling task until `t` (steady_clock).
///
/// Suspends: yes, unless `t` has passed. Thread-safety: call from a gorun task.
/// On shutdown: a sleeping task is destroyed with the runtime.
GORUN_NODISCARD_AWAIT inline detail::sleep_awaiter sleep_until(clock::time_point t) noexcept {
    detail::sleep_awaiter a;
    a.node.deadline_ns = detail::to_ns(t);
    return a;
}

/// Suspends the calling task for at least `d`. A zero or negative `d` does not suspend.
///
/// Suspends: yes, unless `d <= 0`. Thread-safety: call from a gorun task.
template <class Rep, class Period>
GORUN_NODISCARD_AWAIT detail::sleep_awaiter
sleep_for(std::chrono::duration<Rep, Period> d) noexcept {
    detail::sleep_awaiter a;
    // Saturating: a sleep longer than the clock's range (or than nanoseconds can count)
    // becomes "until the end of time" rather than an overflow.
    a.node.deadline_ns = detail::deadline_after(d);
    return a;
}

}  // namespace gorun
