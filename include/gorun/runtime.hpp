// gorun/runtime.hpp — starting and stopping the runtime.
//
//     gorun::task<int> main_task() { ...; co_return 0; }
//     int main() { return gorun::run(main_task()); }
//
// run() makes the calling thread worker 0, starts the other workers (GORUN_MAXPROCS, or the
// CPUs this process may use: its affinity mask and cgroup CPU quota), runs the task, and when
// it finishes shuts the runtime down: every task still suspended is destroyed exactly once
// (its destructors run), the worker threads are joined and the io_urings closed. run() may be
// called again afterwards.
//
// Code that is not itself a gorun task — another thread, a callback from a C library — uses a
// gorun::runtime object: post() and spawn() start tasks on it from any thread, block_on() runs
// a task and waits for it.
#pragma once

#include <gorun/error.hpp>
#include <gorun/go.hpp>
#include <gorun/metrics.hpp>
#include <gorun/spawn.hpp>
#include <gorun/task.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <source_location>
#include <utility>

namespace gorun {

/// What the panic handler is told about a task whose exception nobody will observe.
struct panic_info {
    std::uint64_t task_id;
    const char* task_name;            ///< nullptr when the task was not named
    std::source_location spawn_site;  ///< where go/spawn/post was called
    std::exception_ptr exception;
};

/// Called for an exception escaping a detached task. The default prints it with the spawn
/// site and terminates (Go crashes on an unrecovered panic). A handler that returns lets the
/// program go on; the task is gone either way.
using panic_handler = void (*)(const panic_info&);

/// Options for run() and runtime.
struct runtime_options {
    /// Number of workers; 0 means GORUN_MAXPROCS if set, else the CPUs this process may use.
    unsigned workers = 0;
    /// Submission queue entries per worker ring.
    unsigned ring_entries = 256;
    /// Extra IORING_SETUP_* flags for every worker's ring (constants from <gorun/uring.hpp>),
    /// OR-ed into each flag set gorun probes — e.g. IORING_SETUP_SQPOLL, where a kernel thread
    /// per ring polls the submission queue (fewer io_uring_enter calls, one busy kernel thread
    /// per worker). A flag the kernel refuses makes the runtime fail to start (setup_error).
    unsigned ring_flags = 0;
    /// With IORING_SETUP_SQPOLL: how long (ms) the polling thread spins idle before it sleeps;
    /// 0 = the kernel's default.
    unsigned sq_thread_idle_ms = 0;
    /// The fd of an existing io_uring whose async kernel workers (io-wq) every worker ring
    /// shares (IORING_SETUP_ATTACH_WQ): an application that already runs a ring can keep one
    /// worker pool for both. -1 = none. The ring must stay open while the runtime starts.
    int attach_wq_fd = -1;
    /// How long an idle worker looks for work before it parks on its ring. Waking a parked
    /// worker costs tens of µs on a VM, so a spin of 20-50 µs pays for itself.
    std::chrono::microseconds spin{30};
    /// Exceptions escaping detached tasks; nullptr = the default (print and terminate).
    panic_handler on_panic = nullptr;
    /// Most threads the blocking pool (gorun::blocking) runs at once; more calls wait.
    unsigned blocking_threads = 64;
    /// A blocking-pool thread idle for this long exits.
    std::chrono::milliseconds blocking_idle{10'000};
    /// Seed for the randomised scheduling decisions of debug builds; 0 = GORUN_TEST_SEED if
    /// set, else random. The seed in use is printed once per process.
    std::uint64_t seed = 0;
};

namespace detail {

// Runs `main` (a root at its initial suspend point) with the caller as worker 0, returns when
// it has finished and the runtime is shut down. Throws setup_error.
void run_main(promise_base& main, std::coroutine_handle<> h, const runtime_options& opts);

runtime_state* runtime_create(const runtime_options& opts);
void runtime_destroy(runtime_state* rt) noexcept;
unsigned runtime_workers(const runtime_state* rt) noexcept;
void runtime_block_on(runtime_state* rt, promise_base& main, std::coroutine_handle<> h);
void runtime_dump(const runtime_state* rt, std::FILE* out, bool io_ops = false) noexcept;
runtime_metrics runtime_metrics_of(const runtime_state* rt) noexcept;

}  // namespace detail

/// Runs `main` on a new runtime and returns its result (or rethrows its exception).
///
/// The calling thread becomes worker 0 until `main` finishes; the runtime is then shut down
/// (remaining tasks destroyed once each, threads joined, rings closed).
/// Errors: setup_error when the runtime cannot start (the message says why and what to do).
template <class T>
T run(task<T> main, const runtime_options& opts = {}) {
    auto h = main.release();
    struct destroy_at_exit {
        std::coroutine_handle<detail::task_promise<T>> h;
        ~destroy_at_exit() { h.destroy(); }
    } guard{h};
    detail::run_main(h.promise(), h, opts);
    return h.promise().result();
}

/// A runtime driven from outside: its workers are all background threads.
///
/// Thread-safety: post, spawn and block_on may be called from any thread that is not one of
/// this runtime's workers, concurrently. The destructor must not run on a worker.
/// On destruction: like the end of run() — unfinished tasks are destroyed, threads joined.
class runtime {
public:
    /// Starts the workers. Errors: setup_error.
    explicit runtime(const runtime_options& opts = {})
        : rt_(detail::runtime_create(opts)) {}
    ~runtime() { detail::runtime_destroy(rt_); }
    runtime(const runtime&) = delete;
    runtime& operator=(const runtime&) = delete;

    /// Starts `f(args...)` as a detached task (like gorun::go). Suspends: never blocks.
    template <class F, class... A>
    void post(F&& f, A&&... args) {
        detail::go_on(
            rt_, std::source_location::current(), std::forward<F>(f), std::forward<A>(args)...);
    }

    /// Starts `f(args...)` and returns its join_handle, to be awaited by a task of this
    /// runtime or passed to block_on. Suspends: never blocks.
    template <class F, class... A>
    join_handle<detail::launch_result_t<F, A...>> spawn(F&& f, A&&... args) {
        return detail::spawn_on(
            rt_, std::source_location::current(), std::forward<F>(f), std::forward<A>(args)...);
    }

    /// Runs `t` on this runtime and blocks the calling thread until it finishes.
    /// Errors: rethrows the task's exception.
    template <class T>
    T block_on(task<T> t) {
        auto h = t.release();
        struct destroy_at_exit {
            std::coroutine_handle<detail::task_promise<T>> h;
            ~destroy_at_exit() { h.destroy(); }
        } guard{h};
        detail::runtime_block_on(rt_, h.promise(), h);
        return h.promise().result();
    }

    /// Number of workers.
    unsigned workers() const noexcept { return detail::runtime_workers(rt_); }

    /// The runtime's counters (see metrics.hpp). Thread-safety: any thread.
    runtime_metrics metrics() const noexcept { return detail::runtime_metrics_of(rt_); }

    /// Prints the scheduler state (workers, queues, timers, counters) — for debugging.
    void dump(std::FILE* out = stderr) const noexcept { detail::runtime_dump(rt_, out); }

private:
    detail::runtime_state* rt_;
};

/// Prints the state of every live runtime in the process (used by test watchdogs).
/// `io_ops` also lists every worker's I/O operations in flight (state, opcode, fd); it reads
/// the workers' own lists without synchronisation, so pass true only for a process that is
/// hung (a watchdog that gave up), never for a live one.
void dump_all_runtimes(std::FILE* out = stderr, bool io_ops = false) noexcept;

}  // namespace gorun
