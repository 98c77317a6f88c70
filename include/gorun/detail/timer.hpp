// Timer nodes: the unit a worker's timer heap (src/timer_heap.hpp) orders.
//
// A node lives inside the frame of whoever waits (a sleep awaiter today; select's after() and
// deadlines later), so arming a timer allocates nothing. A node is owned by the heap of the
// worker it was added on, and only that worker's thread touches it while it is armed.
#pragma once

#include <gorun/detail/task_base.hpp>

#include <chrono>
#include <coroutine>
#include <cstdint>

namespace gorun::detail {

struct timer_node {
    std::int64_t deadline_ns = 0;  // steady_clock, nanoseconds since its epoch
    std::uint64_t seq = 0;         // arming order: equal deadlines fire first-armed first
    std::uint32_t heap_index = 0;  // position in the heap while armed (heap bookkeeping)
    bool armed = false;
    // Called by the owning worker when the deadline passes (the node is already unlinked).
    void (*fire)(timer_node*) noexcept = nullptr;
    task_base* task = nullptr;  // the task to wake, for the default `fire`
    // For nodes the heap owns (select timers): frees the node when the heap drops it unfired
    // (shutdown, or purging a cancelled one). nullptr for nodes living in a frame.
    void (*dispose)(timer_node*) noexcept = nullptr;
    // For heap-owned nodes: true once cancelled from elsewhere (a tombstone to purge).
    bool (*is_cancelled)(const timer_node*) noexcept = nullptr;
};

// steady_clock now, in nanoseconds.
std::int64_t now_ns() noexcept;

// The deadline `d` from now, in steady_clock nanoseconds, saturating: a zero, negative (or
// NaN) `d` gives 0 (already passed), a `d` longer than the clock's range gives INT64_MAX
// (never). Shared by sleep_for and select's after(): `now_ns() + duration_cast<ns>(d)`
// overflows for durations such as nanoseconds::max() or hours::max() (signed overflow, UB;
// in practice a deadline in the past, so "wait forever" fired at once).
template <class Rep, class Period>
std::int64_t deadline_after(std::chrono::duration<Rep, Period> d) noexcept {
    using ns_t = std::chrono::nanoseconds;
    if (!(d > std::chrono::duration<Rep, Period>::zero()))
        return 0;
    // Range check in double nanoseconds: no integer type can overflow on the way.
    constexpr double limit = 4e18;  // ~126 years, half of what int64 nanoseconds can count
    std::int64_t now = now_ns();
    if (std::chrono::duration<double, std::nano>(d).count() >= limit - static_cast<double>(now))
        return ns_t::max().count();
    return now + std::chrono::duration_cast<ns_t>(d).count();
}

// Parks the running task (resuming `h` later) until node.deadline_ns, on this worker's heap.
void sleep_on_current_worker(timer_node& node, std::coroutine_handle<> h) noexcept;

// Arms `node` on the current worker's heap with its `fire` callback. Returns false (and arms
// nothing) when not called on a worker.
bool timer_arm(timer_node& node) noexcept;

// Disarms `node` if it is still armed; must run on the worker that armed it. Returns true if it
// was still armed (so `fire` will not be called).
bool timer_cancel(timer_node& node) noexcept;

}  // namespace gorun::detail
