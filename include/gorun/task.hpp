// gorun/task.hpp — task<T>, the coroutine type of gorun.
//
// A task<T> is a lazy, move-only coroutine: calling a function that returns task<T> allocates
// its frame and runs nothing. It starts when it is awaited (`T v = co_await f();`), or when it
// is handed to gorun::go / gorun::spawn / gorun::run. An exception thrown inside propagates to
// the awaiter.
//
//     gorun::task<int> answer() { co_return 42; }
//     gorun::task<> user() { int v = co_await answer(); }
//
// Awaiting a task transfers control straight into it and back (symmetric transfer), so with
// Clang a loop awaiting a million synchronously completing tasks runs in constant stack.
// Frames come from the current worker's size-class cache, not from malloc per call.
#pragma once

#include <gorun/config.hpp>

#include <gorun/detail/promise.hpp>

#include <coroutine>
#include <optional>
#include <type_traits>
#include <utility>

namespace gorun {

/// A lazily started coroutine producing a T (or void).
///
/// Suspends: awaiting it runs it; it suspends the awaiter only while it is itself suspended.
/// Thread-safety: a task object is owned by one place at a time (it is move-only).
/// Errors: an exception escaping the coroutine is rethrown by `co_await`.
template <class T = void>
class [[nodiscard("a task does nothing until it is awaited or started with go/spawn/run")]] task {
public:
    using promise_type = detail::task_promise<T>;
    using value_type = T;

    task() noexcept = default;
    explicit task(std::coroutine_handle<promise_type> h) noexcept
        : h_(h) {
    }
    task(task && o) noexcept
        : h_(std::exchange(o.h_, {})) {
    }
    task& operator=(task&& o) noexcept {
        if (this != &o) {
            if (h_)
                h_.destroy();
            h_ = std::exchange(o.h_, {});
        }
        return *this;
    }
    task(const task&) = delete;
    task& operator=(const task&) = delete;
    ~task() {
        if (h_)
            h_.destroy();
    }

    /// True while this object holds a coroutine.
    explicit operator bool() const noexcept {
        return static_cast<bool>(h_);
    }

    struct awaiter {
        std::coroutine_handle<promise_type> h;
        bool await_ready() const noexcept { return false; }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
            h.promise().continuation_ = awaiting;
            return h;
        }
        T await_resume() { return h.promise().result(); }
    };

    /// Runs the task to completion and yields its result (or rethrows its exception).
    awaiter operator co_await()&& noexcept {
        return awaiter{checked()};
    }
    /// Same as above; the frame stays owned by this object until it is destroyed.
    awaiter operator co_await()& noexcept {
        return awaiter{checked()};
    }

    /// Gives up ownership of the coroutine frame (used by go/spawn/run).
    std::coroutine_handle<promise_type> release() noexcept {
        return std::exchange(h_, {});
    }

private:
    std::coroutine_handle<promise_type> checked() const noexcept {
        if (!h_ || h_.done())
            detail::fatal("awaiting an empty or already finished task");
        return h_;
    }
    std::coroutine_handle<promise_type> h_;
};

namespace detail {

template <class T>
struct task_promise : promise_base {
    task<T> get_return_object() noexcept {
        return task<T>(std::coroutine_handle<task_promise>::from_promise(*this));
    }
    template <class U>
    requires std::is_convertible_v<U&&, T>
    void return_value(U&& v) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
        value_.emplace(std::forward<U>(v));
    }
    T result() {
        rethrow_if_failed();
        return std::move(*value_);
    }
    std::optional<T> value_;
};

template <>
struct task_promise<void> : promise_base {
    task<void> get_return_object() noexcept {
        return task<void>(std::coroutine_handle<task_promise>::from_promise(*this));
    }
    void return_void() noexcept {}
    void result() { rethrow_if_failed(); }
};

template <class X>
inline constexpr bool is_task_v = false;
template <class T>
inline constexpr bool is_task_v<task<T>> = true;

}  // namespace detail
}  // namespace gorun
