// gorun/when_all.hpp — run tasks concurrently and wait for all of them.
//
//     auto [user, orders] = co_await gorun::when_all(load_user(id), load_orders(id));
//
//     std::vector<gorun::task<int>> jobs = ...;
//     std::vector<int> results = co_await gorun::when_all(std::move(jobs));
//
// Each task runs as its own gorun task (so they run in parallel on different workers), in a
// new cancellation scope (this_task.hpp): the tasks inherit the caller's stop token and
// deadline. The first task to throw cancels the scope — its siblings see
// this_task::stop_requested() and a gorun::cancelled() select case fire — and when_all still
// waits for every task before it rethrows that first exception (later ones are dropped).
// Nothing is abandoned: when when_all returns or throws, no task it started is running.
#pragma once

#include <gorun/task.hpp>

#include <gorun/detail/scope.hpp>

#include <cstddef>
#include <optional>
#include <source_location>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace gorun {

namespace detail {

// A child of when_all: runs `body`, stores its result in `slot`, or fails the scope.
template <class T>
task<> all_child(scope* s, task<T> body, std::optional<nonvoid_t<T>>* slot) {
    try {
        if constexpr (std::is_void_v<T>) {
            co_await std::move(body);
            slot->emplace();
        } else {
            slot->emplace(co_await std::move(body));
        }
    } catch (...) {
        s->fail(std::current_exception());
    }
    s->child_done();  // last touch of *s and *slot
}

template <class... T, std::size_t... I>
task<std::tuple<nonvoid_t<T>...>> when_all_tuple(std::index_sequence<I...>, task<T>... ts) {
    std::tuple<std::optional<nonvoid_t<T>>...> slots;
    scope s;
    // Every frame is made before any child starts: a bad_alloc then leaves nothing running.
    task<> kids[] = {all_child<T>(&s, std::move(ts), &std::get<I>(slots))...};
    for (auto& k : kids)
        s.start(std::move(k), std::source_location::current());
    co_await s.wait();
    s.rethrow_if_failed();
    co_return std::tuple<nonvoid_t<T>...>(std::move(*std::get<I>(slots))...);
}

}  // namespace detail

/// Runs every task concurrently and returns all their results, in argument order
/// (std::monostate stands for a task<void>'s).
///
/// Suspends: until every task has finished. Cancellation: the tasks inherit the caller's
/// stop token and deadline; the first exception cancels the others (cooperatively) and is
/// rethrown once all have finished. Thread-safety: call from a gorun task.
template <class... T>
requires(sizeof...(T) > 0) task<std::tuple<detail::nonvoid_t<T>...>> when_all(task<T>... ts) {
    return detail::when_all_tuple(std::index_sequence_for<T...>{}, std::move(ts)...);
}

/// Runs every task of `ts` concurrently and returns their results in the same order.
/// As the variadic form; an empty vector gives an empty result at once.
template <class T>
task<std::vector<detail::nonvoid_t<T>>> when_all(std::vector<task<T>> ts) {
    std::vector<std::optional<detail::nonvoid_t<T>>> slots(ts.size());
    if (!ts.empty()) {
        detail::scope s;
        std::vector<task<>> kids;  // made before any starts (see when_all_tuple)
        kids.reserve(ts.size());
        for (std::size_t i = 0; i < ts.size(); ++i)
            kids.push_back(detail::all_child<T>(&s, std::move(ts[i]), &slots[i]));
        for (auto& k : kids)
            s.start(std::move(k), std::source_location::current());
        co_await s.wait();
        s.rethrow_if_failed();
    }
    std::vector<detail::nonvoid_t<T>> out;
    out.reserve(slots.size());
    for (auto& v : slots)
        out.push_back(std::move(*v));
    co_return out;
}

}  // namespace gorun
