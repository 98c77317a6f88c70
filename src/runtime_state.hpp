// The runtime's shared state and the per-worker state. Scheduling logic is in runtime.cpp;
// docs/design/scheduler.md explains the whole.
//
// Who touches what
// - worker fields without std::atomic are the owner thread's alone (queue bottom, next slot,
//   timers, ring, cache, block list, rng, counters' writes).
// - `queue` top is shared with thieves (run_queue.hpp).
// - `remote_free`, `io_cancels` and `ring_calls` are MPSC stacks: any thread pushes, the owner
//   drains.
// - `in_idle` is guarded by runtime_state::idle_mu.
// - stat_* are single-writer counters read by dumps (relaxed).
// - runtime_state's atomics: see the park/wake protocol (SCHED-2) in runtime.cpp.
#pragma once

#include <gorun/metrics.hpp>
#include <gorun/runtime.hpp>

#include <gorun/detail/io_op.hpp>
#include <gorun/detail/task_base.hpp>

#include "blocking_pool.hpp"
#include "frame.hpp"
#include "inject_queue.hpp"
#include "io/ring.hpp"
#include "run_queue.hpp"
#include "timer_heap.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace gorun::detail {

// Signalled when the task given to run()/block_on() finishes.
struct main_waiter {
    bool stop_runtime = false;  // run(): the runtime ends with its main task
    // block_on(): the blocked thread waits for `done`. The finishing worker notifies while
    // holding `mu`, so the waiter cannot return (and free this object) before it is done.
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
};

// A counter written by one thread and read (for dumps) by any.
struct stat {
    std::atomic<std::uint64_t> v{0};
    void inc(std::uint64_t n = 1) noexcept {
        v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    std::uint64_t get() const noexcept { return v.load(std::memory_order_relaxed); }
};

enum class worker_state : std::uint8_t { starting, running, spinning, parked, stopped };

struct worker {
    runtime_state* rt = nullptr;
    unsigned index = 0;
    std::thread thread;

    run_queue queue;
    task_base* next = nullptr;      // runs before the queue (woken-by-the-running-task slot)
    task_base* current = nullptr;   // the root running now
    std::uint32_t until_fair = 61;  // scheduling decisions until the next fairness check
    std::int64_t last_fair_pop_ns = 0;
    std::uint64_t rng = 0;

    frame_cache cache;
    block_list blocks;  // blocks this worker owns (frame.hpp)
    std::atomic<frame_header*> remote_free{nullptr};

    timer_heap timers;
    // Select timers cancelled from anywhere but still in `timers` (purged when they pile up).
    // Signed: the owner's decrement can precede the canceller's increment for a moment.
    std::atomic<std::int64_t> timer_tombstones{0};
    ring io;
    // I/O ops homed on this worker (src/io/op.cpp). io_cancels is an MPSC stack of cancel
    // requests (any thread pushes, the owner exchanges it empty); the rest is owner-only.
    std::atomic<io_op*> io_cancels{nullptr};
    // Functions to run on this worker's thread with its ring (uring::on_every_ring; MPSC like
    // io_cancels; drained in housekeeping, re-checked before parking).
    std::atomic<ring_call*> ring_calls{nullptr};
    io_op* io_ops = nullptr;  // ops in flight (doubly linked)
    std::uint64_t io_in_flight = 0;
    bool io_draining = false;  // shutdown: completions deliver nothing

    bool spinning = false;  // counted in rt->nspinning (owner-only view of it)
    bool in_idle = false;   // guarded by rt->idle_mu

    std::uint64_t id_next = 0, id_end = 0;  // batch of task ids

    std::atomic<worker_state> state{worker_state::starting};
    stat stat_spawned, stat_finished, stat_run, stat_steals, stat_parks, stat_wakes_sent,
        stat_timers_fired, stat_frame_mallocs, stat_io_ops, stat_io_cancels, stat_io_pending;
    std::atomic<std::size_t> stat_timers{0};
};

struct runtime_state {
    runtime_options opts;
    unsigned nworkers = 0;
    std::vector<std::unique_ptr<worker>> workers;
    bool caller_is_worker0 = false;

    inject_queue inject;
    std::optional<blocking_pool> blocking;  // made with the runtime (make_state)

    // Park/wake protocol (SCHED-2). idle_mu guards `idle` and every worker's in_idle.
    // nidle and nspinning are read on every local push: their own cache line.
    alignas(64) std::atomic<int> nidle{0};
    std::atomic<int> nspinning{0};
    alignas(64) std::mutex idle_mu;
    std::vector<worker*> idle;

    std::atomic<bool> stopping{false};
    std::atomic<bool> dead{false};  // workers joined: shutdown runs single-threaded

    std::atomic<std::uint64_t> next_id{1};

    std::mutex foreign_mu;  // guards foreign_blocks
    block_list foreign_blocks;
    frame_header* graveyard = nullptr;  // shutdown only: blocks freed while destroying roots

    std::uint64_t seed = 0;

    // Start-up hand-shake: each worker thread reports its ring set-up.
    std::mutex setup_mu;
    int setup_error = 0;                  // first -errno
    std::atomic<unsigned> setup_done{0};  // workers that finished set-up (C++20 wait/notify)
    std::atomic<int> go_ahead{0};         // 0: wait, 1: run, 2: abort (set-up failed)
};

// Sums the workers' counters (metrics.hpp).
runtime_metrics collect_metrics(const runtime_state& rt) noexcept;

// The calling thread's worker, or nullptr. Only src/ reads it directly, from ordinary
// functions; coroutine bodies go through the out-of-line entry points of task_base.hpp (see
// there for the compiler issue). constinit: no TLS wrapper call on access.
extern constinit thread_local worker* tls_worker;
inline worker* this_worker() noexcept {
    return tls_worker;
}

}  // namespace gorun::detail
