// Timer nodes: the unit a worker's timer heap (src/timer_heap.hpp) orders.
//
// A node lives inside the frame of whoever waits (a sleep awaiter today; select's after() and
// deadlines later), so arming a timer allocates nothing. A node is owned by the heap of the
// worker it was added on, and only that worker's thread touches it while it is armed.
#pragma once

#include <gorun/detail/task_base.hpp>

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

// Parks the running task (resuming `h` later) until node.deadline_ns, on this worker's heap.
void sleep_on_current_worker(timer_node& node, std::coroutine_handle<> h) noexcept;

// Arms `node` on the current worker's heap with its `fire` callback. Returns false (and arms
// nothing) when not called on a worker.
bool timer_arm(timer_node& node) noexcept;

// Disarms `node` if it is still armed; must run on the worker that armed it. Returns true if it
// was still armed (so `fire` will not be called).
bool timer_cancel(timer_node& node) noexcept;

}  // namespace gorun::detail
