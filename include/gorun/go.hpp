// gorun/go.hpp — Go's `go` statement.
//
//     gorun::go(producer, ch);                       // a function returning task<>
//     gorun::go([ch]() -> gorun::task<> { ... });    // a capturing lambda is safe
//
// The callable and decayed copies of the arguments are moved into the new task's frame, so a
// capturing lambda or an argument passed by reference cannot dangle. The task is detached:
// nothing joins it. An exception escaping it goes to the runtime's panic handler (default:
// print it with the task's spawn site, then terminate — as an unrecovered panic crashes a Go
// program). Use gorun::spawn for a task whose result or exception you want back.
#pragma once

#include <gorun/detail/launch.hpp>
#include <gorun/detail/site.hpp>

#include <source_location>
#include <utility>

namespace gorun {

namespace detail {
// Starts a detached root on `rt` (nullptr: the calling worker's runtime).
template <class F, class... A>
void go_on(runtime_state* rt, const std::source_location& site, F&& f, A&&... args) {
    auto h = make_root(std::forward<F>(f), std::forward<A>(args)...).release();
    h.promise().join_.store(join_detached, std::memory_order_relaxed);
    start_root(rt, h.promise(), h, site);
}
template <class F, class... A>
void go_at(const std::source_location& site, F&& f, A&&... args) {
    go_on(nullptr, site, std::forward<F>(f), std::forward<A>(args)...);
}
}  // namespace detail

/// go(f, args...): starts `f(args...)` as a new detached task on the current worker.
///
/// `f` may return task<T> (awaited inside the new task), or be a plain function. Up to eight
/// arguments; the call site is recorded for panics and dumps.
/// Suspends: no; the new task is queued and runs when a worker picks it.
/// Thread-safety: call it from a task of a gorun runtime; from other threads use
/// runtime::post. Calling it elsewhere is fatal.
/// Errors: an exception escaping the task calls the runtime's panic handler.
GORUN_DETAIL_WITH_SITE(, go, detail::go_at)

}  // namespace gorun
