// The cancellation scope behind task_group, when_all and when_any.
//
// Design
// A scope owns a stop_source and the task_context its children run in (task_base::ctx_
// points at it). It is created inside a task and inherits that task's context: the scope's
// stop token is linked to the enclosing one (a stop_callback forwards a stop request down,
// never up), and its deadline is the earlier of its own and the enclosing one. Children are
// detached roots counted by a wait_group; each calls child_done() as its very last touch of
// the scope, so whoever owns the scope may destroy it once wait() has returned.
//
// Invariants
// - SCOPE-1: the scope outlives every child started in it (its owner waits for them all, or,
//   for a task_group dropped unawaited, the children keep its shared state alive), so a
//   child's ctx_ never dangles.
// - SCOPE-2: the first failure wins: fail() keeps only the first exception (an atomic flag
//   decides; the pointer is read after wait(), whose wait_group hand-off orders the write
//   before the read) and requests stop on the scope.
// - SCOPE-3: cancellation flows down only: cancelling a scope stops its children and their
//   nested scopes, never the enclosing scope.
#pragma once

#include <gorun/task.hpp>
#include <gorun/wait_group.hpp>

#include <gorun/detail/task_base.hpp>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <exception>
#include <limits>
#include <optional>
#include <source_location>
#include <stop_token>
#include <type_traits>
#include <utility>
#include <variant>

namespace gorun::detail {

inline constexpr std::int64_t no_deadline = std::numeric_limits<std::int64_t>::max();

// What a child produces, as a value: void becomes std::monostate (so tuples and variants of
// results work for task<void> too).
template <class T>
using nonvoid_t = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

class scope {
public:
    // Must run inside a gorun task: the enclosing context is the running task's.
    explicit scope(std::int64_t deadline_ns = no_deadline) {
        ctx_.token = source_.get_token();
        ctx_.deadline_ns = deadline_ns;
        if (const task_context* parent = current_context()) {
            ctx_.deadline_ns = std::min(ctx_.deadline_ns, parent->deadline_ns);
            if (parent->token.stop_possible())
                parent_link_.emplace(parent->token, forward_stop{&source_});
        }
    }
    scope(const scope&) = delete;
    scope& operator=(const scope&) = delete;

    const task_context& context() const noexcept { return ctx_; }
    bool stop_requested() const noexcept { return ctx_.token.stop_requested(); }
    void cancel() noexcept { source_.request_stop(); }

    // SCOPE-2: keeps the first exception and cancels the scope.
    void fail(std::exception_ptr e) noexcept {
        if (!failed_.exchange(true, std::memory_order_acq_rel))
            error_ = std::move(e);
        cancel();
    }
    // Call after wait() only.
    void rethrow_if_failed() const {
        if (error_)
            std::rethrow_exception(error_);
    }

    // A child's last touch of the scope.
    void child_done() noexcept { children_.done(); }
    // Counts and starts `root` (a child wrapper that ends with child_done()) as a detached
    // task running in this scope, on the current worker. The frame already exists, so nothing
    // here can fail between counting the child and starting it.
    template <class R>
    void start(task<R> root, const std::source_location& site) noexcept {
        children_.add(1);
        auto h = root.release();
        h.promise().join_.store(join_detached, std::memory_order_relaxed);
        start_root(nullptr, h.promise(), h, site, &ctx_);
    }
    // Suspends until every child has called child_done().
    GORUN_NODISCARD_AWAIT auto wait() noexcept { return children_.wait(); }

private:
    struct forward_stop {
        std::stop_source* to;
        void operator()() noexcept { to->request_stop(); }
    };

    std::stop_source source_;
    task_context ctx_;
    // Declared after source_ and ctx_: destroyed first, so a stop arriving from the enclosing
    // scope meanwhile never reaches a destroyed source (~stop_callback waits for a callback
    // running on another thread).
    std::optional<std::stop_callback<forward_stop>> parent_link_;
    wait_group children_;
    std::atomic<bool> failed_{false};
    std::exception_ptr error_;
};

}  // namespace gorun::detail
