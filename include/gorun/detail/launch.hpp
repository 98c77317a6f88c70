// Turning `callable, args...` into a root coroutine whose frame owns everything it uses.
//
// go/spawn promise that a capturing lambda or a by-reference argument cannot dangle: the
// callable and decayed copies of the arguments are moved into a wrapper coroutine's frame,
// and the user's coroutine runs inside it. When the callable holds no state (a function
// pointer or a captureless lambda) and every parameter is taken by value, the user's own
// coroutine frame already owns its arguments, so it becomes the root directly and the
// wrapper frame — one more allocation per spawn — is skipped.
#pragma once

#include <gorun/task.hpp>

#include <functional>
#include <tuple>
#include <type_traits>
#include <utility>

namespace gorun::detail {

// ---- what a callable returns when launched ----
template <class R>
struct unwrap_task {
    using type = R;
};
template <class T>
struct unwrap_task<task<T>> {
    using type = T;
};

template <class F, class... A>
struct launch_result {
    using type =
        typename unwrap_task<std::invoke_result_t<std::decay_t<F>, std::decay_t<A>...>>::type;
};
template <class T>
requires is_task_v<std::decay_t<T>>
struct launch_result<T> {
    using type = typename std::decay_t<T>::value_type;
};
template <class F, class... A>
using launch_result_t = typename launch_result<F, A...>::type;

// ---- may the user's coroutine become the root itself? ----
template <class... P>
inline constexpr bool all_by_value_v = (!std::is_reference_v<P> && ...);

template <class Sig>
struct signature_by_value : std::false_type {};
template <class R, class... P>
struct signature_by_value<R (*)(P...)> : std::bool_constant<all_by_value_v<P...>> {};
template <class R, class... P>
struct signature_by_value<R (*)(P...) noexcept> : std::bool_constant<all_by_value_v<P...>> {};
template <class R, class C, class... P>
struct signature_by_value<R (C::*)(P...) const> : std::bool_constant<all_by_value_v<P...>> {};
template <class R, class C, class... P>
struct signature_by_value<R (C::*)(P...) const noexcept>
    : std::bool_constant<all_by_value_v<P...>> {};

template <class D>
constexpr bool direct_root_ok() {
    if constexpr (std::is_pointer_v<D> && std::is_function_v<std::remove_pointer_t<D>>) {
        return signature_by_value<D>::value;
    } else if constexpr (std::is_class_v<D> && std::is_empty_v<D>) {
        if constexpr (requires { &D::operator(); })
            return signature_by_value<decltype(&D::operator())>::value;
        else
            return false;
    } else {
        return false;
    }
}

template <class F, class... A>
inline constexpr bool direct_root_v = direct_root_ok<std::decay_t<F>>()
    && is_task_v<std::invoke_result_t<std::decay_t<F>, std::decay_t<A>...>>;

// The wrapper: `f` and `args` are parameters, hence stored in this coroutine's frame.
template <class R, class D, class... V>
task<R> owned_call(D f, V... args) {
    using Ret = std::invoke_result_t<D&, V&&...>;
    if constexpr (is_task_v<Ret>) {
        co_return co_await std::invoke(f, std::move(args)...);
    } else if constexpr (std::is_void_v<Ret>) {
        std::invoke(f, std::move(args)...);
    } else {
        co_return std::invoke(f, std::move(args)...);
    }
}

// Makes the root task for go/spawn. A task passed directly is taken as it is (it already owns
// its frame; a lambda *called* inline to produce it may still dangle — pass the lambda).
template <class F, class... A>
task<launch_result_t<F, A...>> make_root(F&& f, A&&... args) {
    using R = launch_result_t<F, A...>;
    if constexpr (sizeof...(A) == 0 && is_task_v<std::decay_t<F>>) {
        return std::move(f);
    } else if constexpr (direct_root_v<F, A...>) {
        return std::invoke(std::forward<F>(f), std::forward<A>(args)...);
    } else {
        return owned_call<R, std::decay_t<F>, std::decay_t<A>...>(
            std::forward<F>(f), std::forward<A>(args)...);
    }
}

}  // namespace gorun::detail
