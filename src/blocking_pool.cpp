// See blocking_pool.hpp.
#include "blocking_pool.hpp"

#include <gorun/detail/fatal.hpp>

#include "runtime_state.hpp"

#include <system_error>

namespace gorun::detail {

void blocking_pool::submit(blocking_job& job) noexcept {
    std::unique_lock lock(mu_);
    join_exited(lock);
    job.next = nullptr;
    if (tail_)
        tail_->next = &job;
    else
        head_ = &job;
    tail_ = &job;
    ++queued_;
    if (queued_ <= idle_) {
        work_cv_.notify_one();
        return;
    }
    if (threads_ >= max_threads_)
        return;  // a busy thread takes it when it is free
    auto it = live_.emplace(live_.end());
    try {
        // The new thread's first act is to take mu_, which we hold: it sees `it` assigned.
        *it = std::thread([this, it] { thread_main(it); });
    } catch (const std::system_error&) {
        live_.erase(it);
        if (threads_ == 0)
            fatal("cannot start a thread for gorun::blocking (and none is running)");
        return;  // a running thread will take the job
    }
    ++threads_;
    if (threads_ > peak_)
        peak_ = threads_;
}

void blocking_pool::thread_main(std::list<std::thread>::iterator self) noexcept {
    std::unique_lock lock(mu_);
    for (;;) {
        if (blocking_job* job = head_) {
            head_ = job->next;
            if (!head_)
                tail_ = nullptr;
            --queued_;
            lock.unlock();
            job->run(job);  // ends with ready(task): the job is not ours to touch after it
            lock.lock();
            ++jobs_done_;
            continue;
        }
        if (stopping_)
            break;
        ++idle_;
        bool woken = work_cv_.wait_for(lock, idle_timeout_, [this] { return head_ || stopping_; });
        --idle_;
        if (!woken)
            break;  // idle too long: shrink
    }
    --threads_;
    exited_.splice(exited_.end(), live_, self);
    done_cv_.notify_all();
}

void blocking_pool::join_exited(std::unique_lock<std::mutex>& lock) noexcept {
    if (exited_.empty())
        return;
    std::list<std::thread> done;
    done.swap(exited_);
    lock.unlock();
    for (std::thread& t : done)
        t.join();  // they have left thread_main (or are about to): no wait to speak of
    lock.lock();
}

void blocking_pool::shutdown() noexcept {
    std::unique_lock lock(mu_);
    stopping_ = true;
    // Queued jobs are dropped: their tasks stay suspended and are destroyed with the runtime.
    head_ = tail_ = nullptr;
    queued_ = 0;
    work_cv_.notify_all();
    done_cv_.wait(lock, [this] { return threads_ == 0; });
    join_exited(lock);
}

blocking_pool::stats blocking_pool::snapshot() const noexcept {
    std::lock_guard lock(mu_);
    return {threads_, peak_, jobs_done_, queued_};
}

void blocking_submit(blocking_job& job, std::coroutine_handle<> h) noexcept {
    job.task = park_current(h);
    job.task->rt_->blocking->submit(job);
}

}  // namespace gorun::detail
