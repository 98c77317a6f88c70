// gorun/select.hpp — Go's select over channel operations.
//
//     auto r = co_await gorun::select(gorun::recv(a), gorun::send(b, 42), gorun::default_case);
//     switch (r.index) {
//         case 0: if (auto& v = r.get<0>()) use(*v); else /* a closed */; break;
//         case 1: /* 42 was sent on b */ break;
//         case 2: /* nothing was ready */ break;
//     }
//
// Timeouts and cancellation are cases too: gorun::after(50ms), gorun::until(t) and
// gorun::cancelled(stop_token); recv_for/recv_until/send_for/send_until wrap the common
// "channel operation with a deadline" (a timed-out send destroys its value; it never
// half-sends).
//
// Semantics are Go's (TESTING.md SEL-1, SEL-2; docs/design/select.md):
// - SEL-1: exactly one case commits; the others withdraw without taking or losing a value.
// - SEL-2: among ready cases the choice is uniformly random; `default_case` runs only if no
//   case was ready. A nil channel's case is never chosen; a select of only nil cases and no
//   default blocks forever.
// Algorithm (Go's selectgo): lock every channel involved, in address order (each once, so
// the same channel may appear in several cases); poll the cases in a random order; if none is
// ready and there is no default, park one waiter per case — all in this select's frame,
// sharing one select_state — and unlock. The first completer wins a CAS on the select_state
// and wakes the task; completers that find a losing waiter skip it. Back on its feet, the task
// locks the channels again and unlinks its remaining waiters. No polling loop, no allocation.
#pragma once

#include <gorun/channel.hpp>
#include <gorun/this_task.hpp>

#include <gorun/detail/chan_core.hpp>
#include <gorun/detail/timer.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stop_token>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

namespace gorun {

namespace detail {

std::uint64_t fast_rand() noexcept;  // src/runtime.cpp: the worker's generator

// Case kinds: channel cases lock their channel and park a waiter in its queue; timer and stop
// cases arm a wake-up source instead; the default case is a marker.
template <class T>
struct recv_case {
    chan_state<T>* c;
    std::optional<T> out{};
    using value_type = std::optional<T>;
    static constexpr bool is_default = false;
    static constexpr bool is_channel = true;
    chan_base* chan() const noexcept { return c; }
    typename chan_state<T>::op poll(chan_waiter** wake) noexcept {
        return c->recv_locked(out, wake);
    }
    // The case on its own (the unlocked pass): lock-free when the ring allows, else under
    // this channel's lock only.
    typename chan_state<T>::op poll_alone(chan_waiter** wake) noexcept {
        if (c->try_fast_recv(out))
            return chan_state<T>::op::done;
        c->lock.lock();
        auto r = c->recv_locked(out, wake);
        c->unlock();
        return r;
    }
    void enqueue(chan_waiter& w) noexcept {
        w.slot = &out;
        c->recvq.push(&w);
    }
    void dequeue(chan_waiter& w) noexcept { c->recvq.remove(&w); }
};

template <class T>
struct send_case {
    chan_state<T>* c;
    T value;
    using value_type = void;
    static constexpr bool is_default = false;
    static constexpr bool is_channel = true;
    chan_base* chan() const noexcept { return c; }
    typename chan_state<T>::op poll(chan_waiter** wake) noexcept {
        return c->send_locked(value, wake);
    }
    typename chan_state<T>::op poll_alone(chan_waiter** wake) noexcept {
        if (c->try_fast_send(value))
            return chan_state<T>::op::done;
        c->lock.lock();
        auto r = c->send_locked(value, wake);
        c->unlock();
        return r;
    }
    void enqueue(chan_waiter& w) noexcept {
        w.slot = &value;
        c->sendq.push(&w);
    }
    void dequeue(chan_waiter& w) noexcept { c->sendq.remove(&w); }
};

struct default_case_t {
    using value_type = void;
    static constexpr bool is_default = true;
    static constexpr bool is_channel = false;
};

// after(d): ready once the deadline has passed.
struct after_case {
    std::int64_t deadline_ns;
    select_timer* timer = nullptr;
    using value_type = void;
    static constexpr bool is_default = false;
    static constexpr bool is_channel = false;
    bool ready_now() const noexcept { return deadline_ns <= now_ns(); }
    void arm(chan_waiter& w) noexcept { timer = arm_select_timer(deadline_ns, &w); }
    void disarm() noexcept {
        if (timer)
            release_select_timer(std::exchange(timer, nullptr));
    }
};

// Wakes a select when its stop_token is triggered.
struct stop_waker {
    chan_waiter* w;
    void operator()() const noexcept {
        if (w->claim()) {
            w->result = wait_result::done;
            w->wake();
        }
    }
};

// cancelled(token): ready once stop has been requested.
struct stop_case {
    explicit stop_case(std::stop_token t) noexcept
        : token(std::move(t)) {}
    // Moved only before it is armed (into the select's frame); the callback is not movable.
    stop_case(stop_case&& o) noexcept
        : token(std::move(o.token)) {}

    std::stop_token token;
    std::optional<std::stop_callback<stop_waker>> callback{};
    using value_type = void;
    static constexpr bool is_default = false;
    static constexpr bool is_channel = false;
    bool ready_now() const noexcept { return token.stop_requested(); }
    // May run the callback at once (stop requested meanwhile): it claims and wakes.
    void arm(chan_waiter& w) { callback.emplace(token, stop_waker{&w}); }
    // Waits for a callback running on another thread to finish (std::stop_callback's rule).
    void disarm() noexcept { callback.reset(); }
};

}  // namespace detail

/// A select case receiving from `ch`. `ch` must outlive the select.
template <class T>
detail::recv_case<T> recv(channel<T>& ch) noexcept {
    return detail::recv_case<T>{ch.state()};
}

/// A select case sending `v` on `ch`. If another case fires, `v` is destroyed with the
/// select (it is never half-sent).
template <class T, class U>
detail::send_case<T> send(channel<T>& ch, U&& v) {
    return detail::send_case<T>{ch.state(), T(std::forward<U>(v))};
}

/// The `default` case: taken when no other case is ready.
inline constexpr detail::default_case_t default_case{};

/// A case that fires once `d` has passed (Go's `time.After` in a select). The timer is armed
/// only if the select has to wait, and withdrawn when another case fires.
template <class Rep, class Period>
detail::after_case after(std::chrono::duration<Rep, Period> d) noexcept {
    // Saturating, as sleep_for: `now_ns() + ns` overflowed for a huge d (nanoseconds::max()
    // gave a deadline in the past, so the case fired at once; hours::max() overflowed inside
    // duration_cast).
    return detail::after_case{detail::deadline_after(d)};
}

/// A case that fires at steady-clock time `t`.
inline detail::after_case until(std::chrono::steady_clock::time_point t) noexcept {
    return detail::after_case{
        std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count()};
}

/// A case that fires once stop is requested on `token` (cancellation, like Go's ctx.Done()).
inline detail::stop_case cancelled(std::stop_token token) noexcept {
    return detail::stop_case(std::move(token));
}

/// A case that fires once the running task's scope is cancelled (Go's ctx.Done() for the
/// implicit context of this_task.hpp: a task_group, when_all or when_any). Never fires for a
/// task of no scope.
inline detail::stop_case cancelled() noexcept {
    return detail::stop_case(this_task::stop_token());
}

namespace detail {
// What a case hands back in the result: the received value for a recv case, nothing else.
template <class C>
struct case_value {
    using type = std::monostate;
};
template <class T>
struct case_value<recv_case<T>> {
    using type = std::optional<T>;
};
}  // namespace detail

/// What a select did: `index` is the case that fired (in argument order); get<I>() is the
/// received value of recv case I (nullopt if its channel was closed, or if another case
/// fired). The result owns the value.
template <class... Cases>
struct select_result {
    int index = -1;
    std::tuple<typename detail::case_value<Cases>::type...> values;

    template <std::size_t I>
    auto& get() noexcept {
        static_assert(
            !std::is_same_v<std::tuple_element_t<I, decltype(values)>, std::monostate>,
            "get<I>() is for recv cases");
        return std::get<I>(values);
    }
};

namespace detail {

template <class... Cases>
class select_awaiter {
    static constexpr std::size_t n = sizeof...(Cases);
    static_assert(n > 0, "select needs at least one case");
    static_assert(n <= 255, "a select takes at most 255 cases (chan_waiter::case_index)");
    static constexpr int ndefault = (0 + ... + (Cases::is_default ? 1 : 0));
    static_assert(ndefault <= 1, "select takes at most one default_case");

public:
    explicit select_awaiter(Cases... cs)
        : cases_(std::move(cs)...) {}
    select_awaiter(select_awaiter&&) = delete;
    // Destroyed while parked only when the runtime shuts down (the task is destroyed): the
    // timers must still be given back. Channel waiters are left as they are, as for a plain
    // recv (channel.md: shutdown).
    ~select_awaiter() {
        if (parked_)
            disarm_all();
    }

    bool await_ready() const noexcept { return false; }

    bool await_suspend(std::coroutine_handle<> h) noexcept {
        // SEL-2: poll in a uniformly random order (Fisher–Yates), with one 64-bit random
        // number for the whole shuffle: each step maps it to [0, i] by multiplying and taking
        // the high word, and keeps the low word as the randomness left (Brackett-Rozinsky and
        // Lemire, "Batched Ranged Random Integer Generation", 2024, without its rejection
        // step). The bias is at most the product of the ranges drawn over 2^64; drawing a fresh
        // number whenever that product would pass 2^32 keeps it below 2^-32. One call and no
        // division: a call and a `div` per case were a tenth of a 4-case select (perf).
        std::array<std::uint8_t, n> order;
        for (std::size_t i = 0; i < n; ++i)
            order[i] = static_cast<std::uint8_t>(i);
        if constexpr (n > 1) {
            std::uint64_t r = fast_rand();
            std::uint64_t used = 1;  // product of the ranges drawn from r so far
            for (std::size_t i = n - 1; i > 0; --i) {
                used *= i + 1;
                if (used > (std::uint64_t{1} << 32)) {
                    r = fast_rand();
                    used = i + 1;
                }
                unsigned __int128 m = static_cast<unsigned __int128>(r) * (i + 1);
                r = static_cast<std::uint64_t>(m);
                std::swap(order[i], order[static_cast<std::size_t>(m >> 64)]);
            }
        }

        // SEL-2 with fewer locks: when a channel case is buffered, first try each case on its
        // own, in the same random order, and commit the first that can proceed — it was ready
        // when it did, and every ready case had the same chance to be first. Only when none
        // can does the locked pass below decide between parking and `default`. Selects over
        // unbuffered channels skip this pass: their cases are rarely ready without a parked
        // partner, so it would only double the locking (select4_unbuf -8%; buf64 +21%,
        // select.md). All cases or none take this pass, so the choice stays uniform.
        if (any_buffered()) {
            for (std::size_t k = 0; k < n; ++k) {
                chan_waiter* wake = nullptr;
                if (poll_case<true>(order[k], &wake) >= 0) {
                    if (wake)
                        wake->wake();
                    return false;  // done without suspending
                }
            }
        }
        collect_locks();
        lock_all();
        for (std::size_t k = 0; k < n; ++k) {
            chan_waiter* wake = nullptr;
            int r = poll_case(order[k], &wake);
            if (r >= 0) {
                unlock_all();
                if (wake)
                    wake->wake();
                return false;  // done without suspending
            }
        }
        if constexpr (ndefault == 1) {
            unlock_all();
            fired_ = default_index();
            return false;
        }
        sel_.task = park_current(h);
        // Enqueue in the random poll order too: when several cases wait on one channel, the
        // completer takes the first in its queue, so that order must be random (SEL-2; Go
        // enqueues in a lock order derived from the random poll order).
        for (std::size_t k = 0; k < n; ++k) {
            for_each_case([&](auto& c, std::size_t i) {
                using C = std::remove_reference_t<decltype(c)>;
                if constexpr (!C::is_default) {
                    if (i != order[k])
                        return;
                    chan_waiter& w = waiters_[i];
                    w.set_select(&sel_, i);
                    if constexpr (C::is_channel) {
                        if (c.c)
                            c.enqueue(w);
                    }
                }
            });
        }
        parked_ = true;
        // Timers and stop callbacks last: a stop callback may fire right here (stop requested
        // since the poll) and wake us. Copy the lock list first: once the task is woken and
        // our last unlock is done, the frame may be gone.
        std::array<chan_base*, n> locks = locks_;
        std::size_t nlocks = nlocks_;
        for_each_case([&](auto& c, std::size_t i) {
            using C = std::remove_reference_t<decltype(c)>;
            if constexpr (!C::is_default && !C::is_channel)
                c.arm(waiters_[i]);
        });
        // The last touch of the frame: a stop callback that fired during arm() may already
        // have woken the task, whose await_resume waits for this before disarming (the
        // callback object must be fully constructed first).
        suspended_.store(true, std::memory_order_release);
        for (std::size_t i = nlocks; i-- > 0;)
            locks[i]->unlock();  // from here a completer may resume us: touch nothing
        return true;
    }

    select_result<Cases...> await_resume() {
        if (parked_) {
            while (!suspended_.load(std::memory_order_acquire)) {
#if defined(__x86_64__) || defined(__i386__)
                __builtin_ia32_pause();  // await_suspend is finishing on another thread
#endif
            }
            fired_ = sel_.winner.load(std::memory_order_acquire);
            // Withdraw the timers and stop callbacks, then the other waiters (SEL-1): a
            // completer may have unlinked some already.
            disarm_all();
            lock_all();
            for_each_case([&](auto& c, std::size_t i) {
                using C = std::remove_reference_t<decltype(c)>;
                if constexpr (C::is_channel) {
                    if (c.c && static_cast<int>(i) != fired_)
                        c.dequeue(waiters_[i]);
                }
            });
            unlock_all();
            parked_ = false;
            if (waiters_[static_cast<std::size_t>(fired_)].result == wait_result::closed)
                closed_ = true;
        }
        if (closed_ && is_send_case(fired_))
            throw channel_closed("send on closed channel");
        select_result<Cases...> r;
        r.index = fired_;
        for_each_case([&](auto& c, std::size_t i) {
            using C = std::remove_reference_t<decltype(c)>;
            if constexpr (!std::is_void_v<typename C::value_type>) {
                if (static_cast<int>(i) == fired_)
                    take_value<0>(r, c, i);
            }
        });
        return r;
    }

private:
    void disarm_all() noexcept {
        for_each_case([&](auto& c, std::size_t) {
            using C = std::remove_reference_t<decltype(c)>;
            if constexpr (!C::is_default && !C::is_channel)
                c.disarm();
        });
    }

    // Moves case i's received value into the result's slot i.
    template <std::size_t J, class C>
    void take_value(select_result<Cases...>& r, C& c, std::size_t i) {
        if constexpr (J < n) {
            if (J == i) {
                // Constructed in place, not assigned: channel<T> asks only for a nothrow move
                // constructor, so a T without move assignment must work in select too.
                if constexpr (std::is_same_v<std::tuple_element_t<J, std::tuple<Cases...>>, C>) {
                    if (c.out)
                        std::get<J>(r.values).emplace(std::move(*c.out));
                }
            } else {
                take_value<J + 1>(r, c, i);
            }
        }
    }

    template <class F>
    void for_each_case(F&& f) {
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (f(std::get<I>(cases_), I), ...);
        }
        (std::make_index_sequence<n>{});
    }

    static constexpr int default_index() noexcept {
        int idx = -1, i = 0;
        ((Cases::is_default ? (idx = i, ++i) : ++i), ...);
        return idx;
    }

    bool is_send_case(int idx) {
        bool r = false;
        for_each_case([&](auto& c, std::size_t i) {
            using C = std::remove_reference_t<decltype(c)>;
            if (static_cast<int>(i) == idx)
                r = C::is_channel && std::is_void_v<typename C::value_type>;
        });
        return r;
    }

    // Tries case i: >= 0 (and fired_ set) if it completed. With the locks held (the locked
    // pass), or, when Alone, with only its own channel's lock or none (the unlocked pass).
    template <bool Alone = false>
    int poll_case(std::size_t idx, chan_waiter** wake) noexcept {
        int result = -1;
        for_each_case([&](auto& c, std::size_t i) {
            using C = std::remove_reference_t<decltype(c)>;
            if constexpr (!C::is_default && !C::is_channel) {
                if (i == idx && c.ready_now())
                    result = static_cast<int>(i);
            } else if constexpr (!C::is_default) {
                if (i != idx || !c.c)
                    return;
                auto r = Alone ? c.poll_alone(wake) : c.poll(wake);
                using op = decltype(r);
                if (r == op::done) {
                    result = static_cast<int>(i);
                } else if (r == op::closed) {
                    result = static_cast<int>(i);  // recv: nullopt; send: throws
                    closed_ = true;
                }
            }
        });
        if (result >= 0)
            fired_ = result;
        return result;
    }

    bool any_buffered() noexcept {
        bool r = false;
        for_each_case([&](const auto& c, std::size_t) {
            using C = std::remove_cvref_t<decltype(c)>;
            if constexpr (C::is_channel)
                r = r || (c.c && c.c->cap() > 0);
        });
        return r;
    }

    // The distinct channels, in address order (the lock order, as Go's lockorder).
    void collect_locks() noexcept {
        nlocks_ = 0;
        for_each_case([&](auto& c, std::size_t) {
            using C = std::remove_reference_t<decltype(c)>;
            if constexpr (C::is_channel) {
                if (c.c)
                    locks_[nlocks_++] = c.chan();
            }
        });
        // Insertion sort: a handful of pointers, often already in order (no call, no
        // introsort set-up).
        for (std::size_t i = 1; i < nlocks_; ++i) {
            chan_base* x = locks_[i];
            std::size_t j = i;
            for (; j > 0 && locks_[j - 1] > x; --j)
                locks_[j] = locks_[j - 1];
            locks_[j] = x;
        }
        nlocks_ = static_cast<std::size_t>(
            std::unique(locks_.begin(), locks_.begin() + nlocks_) - locks_.begin());
    }
    void lock_all() noexcept {
        for (std::size_t i = 0; i < nlocks_; ++i)
            locks_[i]->lock.lock();
    }
    void unlock_all() noexcept {
        for (std::size_t i = nlocks_; i-- > 0;)
            locks_[i]->unlock();
    }

    std::tuple<Cases...> cases_;
    std::array<chan_waiter, n> waiters_{};
    std::array<chan_base*, n> locks_{};
    std::size_t nlocks_ = 0;
    select_state sel_;
    int fired_ = -1;
    bool parked_ = false;
    std::atomic<bool> suspended_{false};
    bool closed_ = false;
};

}  // namespace detail

/// Waits until one of the cases can proceed, performs exactly that one, and says which.
///
/// Cases: recv(ch), send(ch, v), after(d) / until(t) (a timer), cancelled(stop_token),
/// default_case. Suspends: unless a case is ready or there is a default; forever if every
/// case is on a nil channel and there is no default or timer.
/// Cancellation: add a cancelled(token) case; when it fires, no other case has happened.
/// Errors: a chosen send case on a closed channel throws channel_closed (as send does).
/// Thread-safety: the channels may be used concurrently by anyone.
template <class... Cases>
GORUN_NODISCARD_AWAIT detail::select_awaiter<std::decay_t<Cases>...> select(Cases&&... cases) {
    return detail::select_awaiter<std::decay_t<Cases>...>(std::forward<Cases>(cases)...);
}

namespace detail {

template <class T>
class timed_recv_awaiter {
public:
    timed_recv_awaiter(channel<T>& ch, after_case deadline)
        : sel_(recv(ch), deadline) {}
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> h) noexcept { return sel_.await_suspend(h); }
    try_recv_result<T> await_resume() {
        auto r = sel_.await_resume();
        if (r.index != 0)
            return {recv_status::timeout, std::nullopt};
        auto& v = r.template get<0>();
        recv_status st = v ? recv_status::ok : recv_status::closed;
        return {st, std::move(v)};
    }

private:
    select_awaiter<recv_case<T>, after_case> sel_;
};

template <class T>
class timed_send_awaiter {
public:
    template <class U>
    timed_send_awaiter(channel<T>& ch, U&& v, after_case deadline)
        : sel_(send(ch, std::forward<U>(v)), deadline) {}
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> h) noexcept { return sel_.await_suspend(h); }
    bool await_resume() { return sel_.await_resume().index == 0; }

private:
    select_awaiter<send_case<T>, after_case> sel_;
};

}  // namespace detail

/// Receives from `ch`, giving up after `d`: status ok (with the value), closed, or timeout.
/// Suspends: like recv, at most until the deadline. The timer is armed only if it waits.
template <class T, class Rep, class Period>
GORUN_NODISCARD_AWAIT detail::timed_recv_awaiter<T>
recv_for(channel<T>& ch, std::chrono::duration<Rep, Period> d) {
    return detail::timed_recv_awaiter<T>(ch, after(d));
}

/// Receives from `ch`, giving up at steady-clock time `t`.
template <class T>
GORUN_NODISCARD_AWAIT detail::timed_recv_awaiter<T>
recv_until(channel<T>& ch, std::chrono::steady_clock::time_point t) {
    return detail::timed_recv_awaiter<T>(ch, until(t));
}

/// Sends `v` on `ch`, giving up after `d`: true if sent, false on timeout (the value is then
/// destroyed, never half-sent). Errors: channel_closed on a closed channel.
template <class T, class U, class Rep, class Period>
GORUN_NODISCARD_AWAIT detail::timed_send_awaiter<T>
send_for(channel<T>& ch, U&& v, std::chrono::duration<Rep, Period> d) {
    return detail::timed_send_awaiter<T>(ch, std::forward<U>(v), after(d));
}

/// Sends `v` on `ch`, giving up at steady-clock time `t` (see send_for).
template <class T, class U>
GORUN_NODISCARD_AWAIT detail::timed_send_awaiter<T>
send_until(channel<T>& ch, U&& v, std::chrono::steady_clock::time_point t) {
    return detail::timed_send_awaiter<T>(ch, std::forward<U>(v), until(t));
}

}  // namespace gorun
