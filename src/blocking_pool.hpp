// The runtime's elastic thread pool for blocking calls (gorun::blocking, blocking.hpp).
//
// Design
// One mutex guards the FIFO of jobs and the thread bookkeeping; a job is a blocking_job that
// lives in the awaiting task's frame (no allocation per call). submit() starts a thread when
// more jobs wait than threads are idle and the cap allows; otherwise the job waits for a
// thread. A thread that finds nothing for `idle_timeout` exits (the pool shrinks back to zero);
// it moves its own std::thread into `exited_`, to be joined by the next submit() or by
// shutdown(), so no thread is ever detached. A finished job makes its task runnable through
// ready(), the runtime's thread-safe path (global queue + wake of a parked worker); it touches
// nothing of the job after that.
//
// Shutdown (SCHED-1, IO-2): once the workers are joined, shutdown() drops queued jobs (their
// tasks are destroyed with the other suspended frames) and waits for running jobs to return
// — their fn may refer to the frames — then joins every thread. A job that never returns
// blocks shutdown: documented in blocking.hpp.
//
// Rejected: a global process-wide pool (runtimes would share threads, but shutdown could not
// tell its jobs from another runtime's); allocating jobs so that frames could be destroyed
// while a job runs (fn usually refers to the frame anyway).
#pragma once

#include <gorun/blocking.hpp>

#include <gorun/detail/task_base.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <list>
#include <mutex>
#include <thread>

namespace gorun::detail {

class blocking_pool {
public:
    blocking_pool(unsigned max_threads, std::chrono::milliseconds idle_timeout) noexcept
        : max_threads_(max_threads ? max_threads : 1)
        , idle_timeout_(idle_timeout) {}
    blocking_pool(const blocking_pool&) = delete;
    blocking_pool& operator=(const blocking_pool&) = delete;
    ~blocking_pool() { shutdown(); }

    // Queues a job; starts a thread if needed. Fatal when no thread can be started at all.
    void submit(blocking_job& job) noexcept;

    // Drops queued jobs, waits for running ones, joins every thread. Idempotent.
    void shutdown() noexcept;

    struct stats {
        std::uint64_t threads = 0, peak = 0, jobs_done = 0, queued = 0;
    };
    stats snapshot() const noexcept;

private:
    void thread_main(std::list<std::thread>::iterator self) noexcept;
    void join_exited(std::unique_lock<std::mutex>& lock) noexcept;

    const unsigned max_threads_;
    const std::chrono::milliseconds idle_timeout_;

    mutable std::mutex mu_;
    std::condition_variable work_cv_;  // jobs or stopping, for idle threads
    std::condition_variable done_cv_;  // a thread exited (shutdown waits for the last)
    blocking_job* head_ = nullptr;     // FIFO of queued jobs
    blocking_job* tail_ = nullptr;
    std::uint64_t queued_ = 0;
    unsigned threads_ = 0;  // started and not yet exited
    unsigned idle_ = 0;     // waiting for work
    unsigned peak_ = 0;
    std::uint64_t jobs_done_ = 0;
    bool stopping_ = false;
    std::list<std::thread> live_;    // running threads (each knows its own node)
    std::list<std::thread> exited_;  // finished threads, to join
};

}  // namespace gorun::detail
