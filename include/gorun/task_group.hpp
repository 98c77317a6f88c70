// gorun/task_group.hpp — Go's errgroup.WithContext, with the context implicit.
//
//     gorun::task_group g(2s);                 // or task_group g; for no deadline of its own
//     for (auto& url : urls)
//         g.go(fetch, url);                    // children run concurrently
//     co_await g.wait();                       // all finished; rethrows the first exception
//
//     gorun::task<> fetch(std::string url) {
//         auto r = co_await gorun::select(gorun::recv(replies), gorun::cancelled());
//         if (r.index == 1) co_return;         // a sibling failed, or the 2 s passed
//         ...
//     }
//
// The group is a cancellation scope (this_task.hpp): its children inherit a stop token linked
// to the creating task's and the earlier of the group's and the creating task's deadlines
// (context.WithTimeout). The first child to throw cancels the group — its siblings observe it
// through this_task::stop_requested() or a gorun::cancelled() select case — and wait()
// rethrows that first exception once every child has finished; later exceptions are dropped.
// When the deadline passes the group is cancelled the same way; wait() then returns normally
// unless a child threw (children decide what an expired deadline means to them, as Go
// functions return ctx.Err()). Cancellation is cooperative: a child that never looks runs to
// its end. To bound concurrency, as errgroup's SetLimit, acquire a gorun::semaphore in go's
// callable.
//
// Design: the scope lives in state shared by the group and its children (shared_ptr), so a
// group destroyed without wait() — say by an exception thrown between go() and wait() — is
// cancelled and its children finish on their own without touching freed memory (SCOPE-1 in
// detail/scope.hpp). The deadline is enforced by a small watcher task that sleeps in a
// select until the deadline or the group's cancellation, whichever comes first; wait()
// cancels the group (as errgroup cancels its context when Wait returns) and awaits it.
#pragma once

#include <gorun/select.hpp>
#include <gorun/spawn.hpp>
#include <gorun/task.hpp>

#include <gorun/detail/launch.hpp>
#include <gorun/detail/scope.hpp>
#include <gorun/detail/site.hpp>
#include <gorun/detail/timer.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <source_location>
#include <stop_token>
#include <type_traits>
#include <utility>

namespace gorun {

/// A group of child tasks sharing a cancellation scope; the first error cancels the rest.
///
/// Suspends: only wait(). Thread-safety: go() may be called from any task of the runtime,
/// including the group's own children; wait() by one task at a time. Create the group inside
/// a gorun task (it inherits that task's context).
/// Cancellation: see the top of this header. Destroying a group that was not awaited cancels
/// it; its children finish on their own.
/// On shutdown: unfinished children are destroyed with the runtime, like any task.
class task_group {
    struct state {
        detail::scope scope;
        explicit state(std::int64_t deadline_ns)
            : scope(deadline_ns) {}
    };

public:
    /// A group without a deadline of its own (it still inherits the creating task's).
    task_group()
        : task_group(detail::no_deadline) {}

    /// A group cancelled at steady-clock time `deadline`.
    explicit task_group(std::chrono::steady_clock::time_point deadline)
        : task_group(to_ns(deadline)) {}

    /// A group cancelled once `timeout` has passed (from now). Saturating: a timeout beyond the
    /// clock's range (hours::max()) is no deadline, a zero or negative one has passed already.
    template <class Rep, class Period>
    explicit task_group(std::chrono::duration<Rep, Period> timeout)
        : task_group(detail::deadline_after(timeout)) {}

    task_group(const task_group&) = delete;
    task_group& operator=(const task_group&) = delete;

    ~task_group() { st_->scope.cancel(); }

    /// go(f, args...): starts `f(args...)` as a child task (callable and arguments moved into
    /// its frame, as gorun::go). An exception escaping it is the group's error: the first one
    /// cancels the group and is rethrown by wait(). Suspends: no. A go() after wait() has
    /// returned starts the task in the already-cancelled scope; wait() again to wait for it.
    GORUN_DETAIL_WITH_SITE(, go, go_at)

    /// Suspends until every child has finished, cancels the group, and rethrows the first
    /// exception a child threw, if any.
    task<> wait() {
        co_await st_->scope.wait();
        st_->scope.cancel();
        if (watcher_)
            co_await watcher_;
        st_->scope.rethrow_if_failed();
    }

    /// Cancels the group: requests stop on its token (children see it; nothing is interrupted).
    void cancel() noexcept { st_->scope.cancel(); }

    /// The token the children observe.
    std::stop_token stop_token() const noexcept { return st_->scope.context().token; }

    /// True once the group is cancelled (error, deadline, cancel(), an enclosing scope, or
    /// wait() having returned).
    bool stop_requested() const noexcept { return st_->scope.stop_requested(); }

    /// The deadline the children inherit (the earlier of the group's and the creator's).
    std::optional<std::chrono::steady_clock::time_point> deadline() const noexcept {
        std::int64_t d = st_->scope.context().deadline_ns;
        if (d == detail::no_deadline)
            return std::nullopt;
        return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(d));
    }

private:
    explicit task_group(std::int64_t deadline_ns)
        : st_(std::make_shared<state>(deadline_ns)) {
        // An inherited deadline is enforced by the enclosing scope already (its cancellation
        // reaches ours); only one of our own needs a watcher.
        if (deadline_ns != detail::no_deadline && deadline_ns == st_->scope.context().deadline_ns) {
            const detail::task_context* parent = detail::current_context();
            if (!parent || deadline_ns < parent->deadline_ns)
                watcher_ = detail::spawn_at(
                    std::source_location::current(), &task_group::watch, st_, deadline_ns);
        }
    }

    static std::int64_t to_ns(std::chrono::steady_clock::time_point t) noexcept {
        return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
    }

    static task<> watch(std::shared_ptr<state> st, std::int64_t deadline_ns) {
        std::chrono::steady_clock::time_point at{std::chrono::nanoseconds(deadline_ns)};
        co_await select(until(at), cancelled(st->scope.context().token));
        st->scope.cancel();
    }

    template <class D, class... V>
    static task<> run_child(std::shared_ptr<state> st, D f, V... args) {
        try {
            co_await detail::make_root(std::move(f), std::move(args)...);
        } catch (...) {
            st->scope.fail(std::current_exception());
        }
        st->scope.child_done();
    }

    template <class F, class... A>
    void go_at(const std::source_location& site, F&& f, A&&... args) {
        st_->scope.start(
            run_child<std::decay_t<F>, std::decay_t<A>...>(
                st_, std::forward<F>(f), std::forward<A>(args)...),
            site);
    }

    std::shared_ptr<state> st_;
    join_handle<void> watcher_;
};

}  // namespace gorun
