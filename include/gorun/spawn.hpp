// gorun/spawn.hpp — start a task and keep a handle to its result.
//
//     gorun::join_handle<int> h = gorun::spawn(compute, 7);
//     int v = co_await h;          // the result, or the task's exception rethrown
//
// The handle owns the finished task's result. Dropping it (or calling detach()) lets the task
// run on unobserved; an exception it then raises goes to the panic handler, as with go.
//
// Design (the join word, task_base::join_): the finishing task and the handle's owner race on
// one atomic word. States: running (0), done (1), detached (2), or the task_base* of the task
// awaiting the handle. The finishing task exchanges in `done`; the awaiter CASes running →
// itself. Whoever comes second sees the other's mark: a finishing task that finds an awaiter
// resumes it (directly, by symmetric transfer, where GORUN_TAIL_CALLS); an awaiter that finds
// `done` continues without suspending; a finishing task that finds `detached` frees itself;
// a detaching handle that finds `done` frees the frame. acq_rel on the exchange pairs with
// the acquire on the awaiter's CAS/load so the result written by the task is visible.
#pragma once

#include <gorun/detail/launch.hpp>
#include <gorun/detail/site.hpp>

#include <atomic>
#include <coroutine>
#include <source_location>
#include <utility>

namespace gorun {

namespace detail {

// Untyped part of join_handle, known to the runtime: shutdown clears `frame_` of every handle
// whose task it destroys, so the handle's destructor does not touch the freed frame.
struct join_handle_base {
    promise_base* promise_ = nullptr;
    void* frame_ = nullptr;  // the coroutine frame's address

    join_handle_base() noexcept = default;
    join_handle_base(promise_base* p, void* f) noexcept
        : promise_(p)
        , frame_(f) {
        if (p)
            p->handle_ = this;
    }
    join_handle_base(join_handle_base&& o) noexcept
        : promise_(std::exchange(o.promise_, nullptr))
        , frame_(std::exchange(o.frame_, nullptr)) {
        if (promise_)
            promise_->handle_ = this;
    }
    join_handle_base& operator=(join_handle_base&& o) noexcept {
        if (this != &o) {
            detach();
            promise_ = std::exchange(o.promise_, nullptr);
            frame_ = std::exchange(o.frame_, nullptr);
            if (promise_)
                promise_->handle_ = this;
        }
        return *this;
    }
    ~join_handle_base() { detach(); }

    // Lets the task run on unobserved. Inline test: most handles are empty by the time they
    // are destroyed (awaited, or moved from).
    void detach() noexcept {
        if (promise_)
            detach_slow();
    }
    void detach_slow() noexcept;  // src/task.cpp
    // Called with the task finished and its result consumed: frees the frame.
    void release_done() noexcept {
        void* frame = frame_;
        promise_ = nullptr;
        frame_ = nullptr;
        std::coroutine_handle<>::from_address(frame).destroy();
    }
    // Awaiter side of the join word: true if the caller must suspend.
    bool join_suspend(std::coroutine_handle<> awaiting) noexcept;
};

}  // namespace detail

/// Handle to a task started with spawn: await it for the task's result.
///
/// Suspends: `co_await h` suspends until the task has finished (not at all if it has).
/// Thread-safety: one owner at a time; the task may finish on any worker meanwhile.
/// Errors: the task's exception is rethrown by `co_await`. Awaiting an empty handle, or one
/// twice, is fatal.
/// On shutdown: if the runtime ends while the task is unfinished, the task is destroyed and
/// the handle becomes empty.
template <class T>
class join_handle : private detail::join_handle_base {
public:
    join_handle() noexcept = default;
    explicit join_handle(std::coroutine_handle<detail::task_promise<T>> h) noexcept
        : join_handle_base(&h.promise(), h.address()) {}
    join_handle(join_handle&&) noexcept = default;
    join_handle& operator=(join_handle&&) noexcept = default;

    /// True while the handle refers to a task (not detached, not yet awaited).
    explicit operator bool() const noexcept { return promise_ != nullptr; }

    /// True once the task has finished (its result can be awaited without suspending).
    bool done() const noexcept {
        return promise_ && promise_->join_.load(std::memory_order_acquire) == detail::join_done;
    }

    /// Lets the task run on without anyone observing it.
    using join_handle_base::detach;

    struct awaiter {
        join_handle* self;
        bool await_ready() const noexcept { return self->done(); }
        bool await_suspend(std::coroutine_handle<> h) noexcept { return self->join_suspend(h); }
        T await_resume() {
            auto* p = static_cast<detail::task_promise<T>*>(self->promise_);
            struct release_at_exit {
                join_handle* self;
                ~release_at_exit() { self->release_done(); }
            } guard{self};
            return p->result();
        }
    };

    /// Waits for the task and returns its result (or rethrows its exception).
    GORUN_NODISCARD_AWAIT awaiter operator co_await() noexcept {
        if (!promise_)
            detail::fatal(
                "awaiting an empty join_handle (detached, moved from, or already awaited)");
        return awaiter{this};
    }
};

namespace detail {
// Starts a root on `rt` (nullptr: the calling worker's runtime) and returns its handle.
template <class F, class... A>
join_handle<launch_result_t<F, A...>>
spawn_on(runtime_state* rt, const std::source_location& site, F&& f, A&&... args) {
    auto h = make_root(std::forward<F>(f), std::forward<A>(args)...).release();
    h.promise().join_.store(join_running, std::memory_order_relaxed);
    join_handle<launch_result_t<F, A...>> jh(h);
    start_root(rt, h.promise(), h, site);
    return jh;
}
template <class F, class... A>
join_handle<launch_result_t<F, A...>>
spawn_at(const std::source_location& site, F&& f, A&&... args) {
    return spawn_on(nullptr, site, std::forward<F>(f), std::forward<A>(args)...);
}
}  // namespace detail

/// spawn(f, args...): starts `f(args...)` as a new task on the current worker and returns its
/// join_handle.
///
/// Arguments are moved into the task's frame exactly as for gorun::go (up to eight).
/// Suspends: no. Thread-safety: call from a gorun task; from other threads use
/// runtime::spawn.
GORUN_DETAIL_WITH_SITE(
    [[nodiscard("keep the join_handle, or use gorun::go")]], spawn, detail::spawn_at)

}  // namespace gorun
