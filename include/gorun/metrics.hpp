// gorun/metrics.hpp — counters of a runtime, for monitoring and tests.
//
//     gorun::runtime_metrics m = gorun::metrics();   // inside a task: its runtime
//     fmt::print("{} tasks spawned, {} steals\n", m.tasks_spawned, m.steals);
//
// Each worker keeps its own counters (single writer, no atomic read-modify-write on the hot
// path); a snapshot sums them. Values read while the runtime runs are a consistent-enough
// view for monitoring, not an atomic snapshot.
#pragma once

#include <gorun/config.hpp>

#include <cstdint>

namespace gorun {

/// A snapshot of a runtime's counters, summed over its workers.
struct runtime_metrics {
    std::uint32_t workers = 0;
    std::uint64_t tasks_spawned = 0;   ///< roots started by go/spawn on workers
    std::uint64_t tasks_finished = 0;  ///< roots that ran to their end on workers
    std::uint64_t tasks_run = 0;       ///< scheduling decisions (resumptions)
    std::uint64_t steals = 0;          ///< successful steals (each takes up to half a queue)
    std::uint64_t parks = 0;           ///< times a worker blocked on its ring
    std::uint64_t wakes_sent = 0;      ///< MSG_RING wakes sent by workers
    std::uint64_t timers_fired = 0;
    std::uint64_t timers_pending = 0;
    std::uint64_t frames_from_malloc = 0;  ///< frame allocations a worker's cache could not serve
    std::uint64_t global_queue = 0;        ///< tasks in the global queue now
    std::uint64_t io_ops = 0;              ///< I/O operations started on the rings
    std::uint64_t io_pending = 0;          ///< I/O operations in flight now
    std::uint64_t io_cancels = 0;          ///< ops for which ASYNC_CANCELs were submitted
    std::uint64_t io_enters = 0;           ///< io_uring_enter calls (submit, reap, park)
    std::uint64_t io_sqes = 0;             ///< SQEs submitted (ops, cancels, wakes)
    std::uint64_t io_cqes = 0;             ///< CQEs reaped
    std::uint64_t io_cq_overflows = 0;     ///< times the CQ overflowed (IO-4: flushed, never lost)
    std::uint64_t blocking_threads = 0;    ///< blocking-pool threads now
    std::uint64_t blocking_threads_peak = 0;  ///< most blocking-pool threads at once
    std::uint64_t blocking_calls = 0;         ///< gorun::blocking calls finished
    std::uint64_t blocking_queued = 0;        ///< calls waiting for a pool thread now
};

/// The counters of the runtime running the calling task. Outside a task: all zero.
/// Suspends: no. Thread-safety: any task, any time.
runtime_metrics metrics() noexcept;

}  // namespace gorun
