// The promise shared by every gorun coroutine (task<T>): frame allocation from the worker's
// cache, lazy start, and the end of a frame — return to the awaiter for a nested task, or the
// root's end-of-task protocol (join hand-off, self-destruction, stopping run()) for a root.
#pragma once

#include <gorun/detail/fatal.hpp>
#include <gorun/detail/task_base.hpp>

#include <coroutine>
#include <exception>
#include <optional>
#include <utility>

namespace gorun::detail {

struct promise_base;

// End of a root task (src/task.cpp). Returns the frame to run next on this thread: the task
// that was waiting in its join handle when the compiler makes tail calls, else noop.
std::coroutine_handle<> root_finished(promise_base& p, std::coroutine_handle<> self) noexcept;

struct promise_base : task_base {
    static void* operator new(std::size_t n) { return frame_alloc(n); }
    static void operator delete(void* p, std::size_t n) noexcept { frame_free(p, n); }

    std::suspend_always initial_suspend() noexcept { return {}; }

    struct final_awaiter {
        bool await_ready() noexcept { return false; }
        template <class P>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
            promise_base& p = h.promise();
            if (p.continuation_)
                return p.continuation_;  // nested: symmetric transfer back to the awaiter
            return root_finished(p, h);
        }
        void await_resume() noexcept {}
    };
    final_awaiter final_suspend() noexcept { return {}; }

    void unhandled_exception() noexcept { exception_ = std::current_exception(); }

    void rethrow_if_failed() const {
        if (exception_)
            std::rethrow_exception(exception_);
    }

    std::coroutine_handle<> continuation_;  // nested frames: who awaits us
    std::exception_ptr exception_;
};

template <class T>
struct task_promise;

}  // namespace gorun::detail
