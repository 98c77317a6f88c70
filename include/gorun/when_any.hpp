// gorun/when_any.hpp — run tasks concurrently, take the first to finish, cancel the rest.
//
//     auto r = co_await gorun::when_any(ask(primary), ask(replica));   // hedged request
//     std::string answer = std::get<0>(r.value) ... (r.index says which task won)
//
// Each task runs as its own gorun task, in a new cancellation scope (this_task.hpp) that
// inherits the caller's stop token and deadline. The first task to finish — with a value or
// an exception — wins; the scope is then cancelled, and when_any waits for the losers to
// finish before it returns the winner's value or rethrows the winner's exception. Losers'
// results and exceptions are dropped. Cancellation is cooperative: a loser stops when it
// next looks (this_task::stop_requested(), a gorun::cancelled() select case), so a loser that
// never looks delays when_any until it finishes on its own — never abandoned, never leaked.
#pragma once

#include <gorun/task.hpp>

#include <gorun/detail/scope.hpp>

#include <atomic>
#include <cstddef>
#include <exception>
#include <optional>
#include <source_location>
#include <stdexcept>
#include <utility>
#include <variant>
#include <vector>

namespace gorun {

/// The winner of when_any over tasks of types T...: its position in the argument list and its
/// value, held in the variant alternative of the same position (std::monostate for void).
template <class... T>
struct when_any_result {
    std::size_t index = 0;
    std::variant<detail::nonvoid_t<T>...> value;
};

namespace detail {

inline constexpr std::size_t no_winner = static_cast<std::size_t>(-1);

// Who finished first. Written by the winner only (after winning the CAS on `winner`), read by
// the caller after the scope's wait(), which orders the write before the read.
template <class V>
struct any_race {
    std::atomic<std::size_t> winner{no_winner};
    std::optional<V> value;
    std::exception_ptr error;

    bool claim(std::size_t i) noexcept {
        std::size_t expected = no_winner;
        return winner.compare_exchange_strong(expected, i, std::memory_order_acq_rel);
    }
};

// A child of when_any: runs `body`; the first child to finish stores its outcome and cancels
// the siblings. I is the variant alternative for the variadic form, no_winner for the vector
// form (where V is the value itself).
template <std::size_t I, class T, class V>
task<> any_child(scope* s, task<T> body, any_race<V>* race, std::size_t index) {
    bool won = false;
    try {
        if constexpr (std::is_void_v<T>) {
            co_await std::move(body);
            if ((won = race->claim(index))) {
                if constexpr (I == no_winner)
                    race->value.emplace();
                else
                    race->value.emplace(std::in_place_index<I>);
            }
        } else {
            T v = co_await std::move(body);
            if ((won = race->claim(index))) {
                if constexpr (I == no_winner)
                    race->value.emplace(std::move(v));
                else
                    race->value.emplace(std::in_place_index<I>, std::move(v));
            }
        }
    } catch (...) {
        // `won` already: storing the value threw; the winner's outcome is that exception.
        if (won || (won = race->claim(index)))
            race->error = std::current_exception();
    }
    if (won)
        s->cancel();
    s->child_done();  // last touch of *s and *race
}

template <class... T, std::size_t... I>
task<when_any_result<T...>> when_any_tuple(std::index_sequence<I...>, task<T>... ts) {
    using V = std::variant<nonvoid_t<T>...>;
    any_race<V> race;
    scope s;
    // Every frame is made before any child starts: a bad_alloc then leaves nothing running.
    task<> kids[] = {any_child<I, T, V>(&s, std::move(ts), &race, I)...};
    for (auto& k : kids)
        s.start(std::move(k), std::source_location::current());
    co_await s.wait();
    if (race.error)
        std::rethrow_exception(race.error);
    co_return when_any_result<T...>{
        race.winner.load(std::memory_order_relaxed), std::move(*race.value)};
}

}  // namespace detail

/// Runs every task concurrently; returns the first to finish (its index and value) once the
/// others, cancelled, have finished too. If the first to finish threw, rethrows that.
///
/// Suspends: until every task has finished. Cancellation: the tasks inherit the caller's
/// stop token and deadline; the caller's cancellation reaches all of them. Thread-safety:
/// call from a gorun task.
template <class... T>
requires(sizeof...(T) > 0) task<when_any_result<T...>> when_any(task<T>... ts) {
    return detail::when_any_tuple(std::index_sequence_for<T...>{}, std::move(ts)...);
}

/// Runs every task of `ts` concurrently; returns {index, value} of the first to finish, as the
/// variadic form (value is std::monostate for task<void>). Errors: std::invalid_argument for
/// an empty vector (there would be no winner to return).
template <class T>
task<std::pair<std::size_t, detail::nonvoid_t<T>>> when_any(std::vector<task<T>> ts) {
    if (ts.empty())
        throw std::invalid_argument("gorun::when_any: no tasks");
    using V = detail::nonvoid_t<T>;
    detail::any_race<V> race;
    detail::scope s;
    std::vector<task<>> kids;  // made before any starts (see when_any_tuple)
    kids.reserve(ts.size());
    for (std::size_t i = 0; i < ts.size(); ++i)
        kids.push_back(detail::any_child<detail::no_winner, T, V>(&s, std::move(ts[i]), &race, i));
    for (auto& k : kids)
        s.start(std::move(k), std::source_location::current());
    co_await s.wait();
    if (race.error)
        std::rethrow_exception(race.error);
    co_return std::pair<std::size_t, V>(
        race.winner.load(std::memory_order_relaxed), std::move(*race.value));
}

}  // namespace gorun
