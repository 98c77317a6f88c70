// gorun/channel.hpp — Go's channels.
//
//     gorun::channel<int> ch(4);          // buffered, capacity 4; channel<int>(0) is a rendezvous
//     co_await ch.send(1);                // throws channel_closed if ch is closed
//     std::optional<int> v = co_await ch.recv();   // nullopt once closed and drained
//     ch.close();
//
// A channel<T> is a cheap copyable handle to shared state, like Go's `chan T`; a
// default-constructed channel is nil: sending and receiving on it block forever, and a nil
// case in select is never chosen. Channels work from plain threads too (blocking_send,
// blocking_recv). Semantics are Go's exactly (TESTING.md CH-1, CH-3, CH-4; docs/design/channel.md):
// - CH-1: a channel never has both waiting senders and waiting receivers.
// - CH-3: every value from a successful send is received exactly once, or destroyed exactly
//   once with the channel; FIFO per channel.
// - CH-4: after close, receivers drain the buffer in order, then see closed (nullopt) forever;
//   blocked and later senders get channel_closed; close wakes every waiter.
#pragma once

#include <gorun/config.hpp>

#include <gorun/detail/chan_core.hpp>
#include <gorun/detail/fatal.hpp>
#include <gorun/detail/spin_lock.hpp>
#include <gorun/detail/task_base.hpp>

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

namespace gorun {

/// Thrown by a send on a closed channel (Go panics there), and by closing a channel twice or a
/// nil channel.
class channel_closed : public std::logic_error {
public:
    using std::logic_error::logic_error;
};

namespace detail {

// Parks the running task forever (a nil channel); shutdown destroys it.
void park_forever(std::coroutine_handle<> h) noexcept;
// A plain thread operating on a nil channel: blocks it forever (Go's behaviour).
[[noreturn]] void block_thread_forever();
// Fatal when called on a gorun worker: blocking calls would stall the worker.
void check_not_on_worker(const char* what) noexcept;

// Everything about a channel except the element type. Guarded by `lock` unless noted.
struct chan_base {
    std::atomic<std::size_t> refs{1};  // handles (atomic, outside the lock)
    spin_lock lock;
    std::size_t cap = 0;
    std::size_t count = 0;  // values in the buffer
    std::size_t head = 0;   // index of the oldest buffered value
    bool closed = false;
    wait_queue recvq;  // CH-1: at most one of recvq / sendq is non-empty
    wait_queue sendq;
};

template <class T>
struct chan_state : chan_base {
    explicit chan_state(std::size_t capacity) {
        cap = capacity;
        if (cap)
            buf = static_cast<T*>(::operator new (sizeof(T) * cap, std::align_val_t{alignof(T)}));
    }
    ~chan_state() {
        // CH-3: values still buffered are destroyed exactly once, with the channel.
        for (std::size_t i = 0; i < count; ++i)
            buf[(head + i) % cap].~T();
        if (buf)
            ::operator delete (buf, std::align_val_t{alignof(T)});
    }
    chan_state(const chan_state&) = delete;
    chan_state& operator=(const chan_state&) = delete;

    T* buf = nullptr;

    // ---- buffer (lock held) ----
    T take_front() {
        T* p = &buf[head];
        T v = std::move(*p);
        p->~T();
        head = (head + 1) % cap;
        --count;
        return v;
    }
    template <class U>
    void put_back(U&& v) {
        ::new (static_cast<void*>(&buf[(head + count) % cap])) T(std::forward<U>(v));
        ++count;
    }

    // ---- the operations, lock held. They never wake anyone themselves: waking may take a
    // syscall, so it happens after the unlock, on the waiter they return. ----

    enum class op { done, would_block, closed };

    // Sends `v` without blocking. `v` is moved from only when the result is done.
    op send_locked(T& v, chan_waiter** wake) noexcept {
        if (closed)
            return op::closed;
        if (chan_waiter* w = recvq.pop_claimed()) {
            GORUN_ASSERT(count == 0, "CH-1: receivers wait only on an empty buffer");
            static_cast<std::optional<T>*>(w->slot)->emplace(std::move(v));
            w->result = wait_result::done;
            *wake = w;
            return op::done;
        }
        if (count < cap) {
            put_back(std::move(v));
            return op::done;
        }
        return op::would_block;
    }

    // Receives into `out` without blocking.
    op recv_locked(std::optional<T>& out, chan_waiter** wake) noexcept {
        if (chan_waiter* w = sendq.pop_claimed()) {
            T& sent = *static_cast<T*>(w->slot);
            if (cap == 0) {
                out.emplace(std::move(sent));
            } else {
                // A sender waits only on a full buffer: take the oldest value, and the
                // sender's value goes to the back (CH-3: FIFO).
                GORUN_ASSERT(count == cap, "CH-1: senders wait only on a full buffer");
                out.emplace(take_front());
                put_back(std::move(sent));
            }
            w->result = wait_result::done;
            *wake = w;
            return op::done;
        }
        if (count > 0) {
            out.emplace(take_front());
            return op::done;
        }
        return closed ? op::closed : op::would_block;
    }

    // Closes; returns every waiter to wake, linked through `next`. False if already closed.
    bool close_locked(chan_waiter** wake) noexcept {
        if (closed)
            return false;
        closed = true;
        chan_waiter* list = nullptr;
        for (wait_queue* q : {&recvq, &sendq}) {
            while (chan_waiter* w = q->pop_claimed()) {
                w->result = wait_result::closed;
                w->next = list;
                list = w;
            }
        }
        *wake = list;
        return true;
    }
};

// Wakes a list of waiters linked through `next` (read before each wake: the woken frame may
// be gone as soon as its task runs).
inline void wake_list(chan_waiter* w) noexcept {
    while (w) {
        chan_waiter* next = w->next;
        w->wake();
        w = next;
    }
}

template <class T>
struct send_awaiter {
    chan_state<T>* c;
    T value;
    chan_waiter w{};
    bool closed = false;

    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> h) noexcept {
        if (!c) {
            park_forever(h);  // nil channel
            return true;
        }
        chan_waiter* wake = nullptr;
        c->lock.lock();
        switch (c->send_locked(value, &wake)) {
            case chan_state<T>::op::done:
                c->lock.unlock();
                if (wake)
                    wake->wake();
                return false;
            case chan_state<T>::op::closed:
                c->lock.unlock();
                closed = true;
                return false;
            case chan_state<T>::op::would_block:
                break;
        }
        w.task = park_current(h);
        w.slot = &value;
        c->sendq.push(&w);
        c->lock.unlock();  // from here a receiver may resume us: touch nothing
        return true;
    }
    void await_resume() const {
        if (closed || w.result == wait_result::closed)
            throw channel_closed("send on closed channel");
    }
};

template <class T>
struct recv_awaiter {
    chan_state<T>* c;
    std::optional<T> out{};
    chan_waiter w{};

    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> h) noexcept {
        if (!c) {
            park_forever(h);  // nil channel
            return true;
        }
        chan_waiter* wake = nullptr;
        c->lock.lock();
        auto r = c->recv_locked(out, &wake);
        if (r != chan_state<T>::op::would_block) {
            c->lock.unlock();
            if (wake)
                wake->wake();
            return false;
        }
        w.task = park_current(h);
        w.slot = &out;
        c->recvq.push(&w);
        c->lock.unlock();  // from here a sender or close may resume us: touch nothing
        return true;
    }
    std::optional<T> await_resume() noexcept { return std::move(out); }
};

}  // namespace detail

/// What try_recv found.
enum class recv_status {
    ok,       ///< a value was received
    empty,    ///< nothing to receive now (the channel is open)
    closed,   ///< closed and drained
    timeout,  ///< (recv_for/recv_until) the deadline passed first
};

/// The outcome of try_recv: a status and, when it is ok, the value.
template <class T>
struct try_recv_result {
    recv_status status;
    std::optional<T> value;
    explicit operator bool() const noexcept { return status == recv_status::ok; }
    T& operator*() noexcept { return *value; }
};

/// A Go channel of T: a copyable handle to shared state.
///
/// T must be nothrow-move-constructible (values are moved under the channel's lock).
/// Thread-safety: every operation may be called concurrently from any task or thread.
/// Lifetime: awaiting ch.send()/ch.recv() needs `ch` (some handle to the channel) alive until
/// the operation completes — as `co_await ch.recv()` on a named channel always has.
template <class T>
class channel {
    static_assert(
        std::is_nothrow_move_constructible_v<T>, "channel<T> needs a nothrow move constructor");
    static_assert(!std::is_reference_v<T>, "channel<T&> is not supported; send pointers");

public:
    using value_type = T;

    /// A nil channel: operations on it block forever; close() throws.
    channel() noexcept = default;

    /// A channel with room for `capacity` values (0: unbuffered, every send meets a receive).
    explicit channel(std::size_t capacity)
        : s_(new detail::chan_state<T>(capacity)) {}

    channel(const channel& o) noexcept
        : s_(o.s_) {
        if (s_)
            s_->refs.fetch_add(1, std::memory_order_relaxed);
    }
    channel(channel&& o) noexcept
        : s_(std::exchange(o.s_, nullptr)) {}
    channel& operator=(channel o) noexcept {
        std::swap(s_, o.s_);
        return *this;
    }
    ~channel() {
        // acq_rel: the last owner sees every other owner's writes before destroying.
        if (s_ && s_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1)
            delete s_;
    }

    /// True for a nil (default-constructed or moved-from) channel.
    bool nil() const noexcept { return s_ == nullptr; }

    /// Sends `v`: hands it to a waiting receiver, or buffers it, or waits for room.
    ///
    /// Suspends: when no receiver waits and the buffer is full (always, until a receiver
    /// comes, on an unbuffered channel); forever on a nil channel.
    /// Errors: throws channel_closed if the channel is closed, or closed while waiting; the
    /// value is then destroyed with the awaiter.
    GORUN_NODISCARD_AWAIT detail::send_awaiter<T>
    send(T v) noexcept(std::is_nothrow_move_constructible_v<T>) {
        return detail::send_awaiter<T>{s_, std::move(v)};
    }

    /// Receives the oldest value; nullopt once the channel is closed and drained.
    ///
    /// Suspends: while nothing is buffered and no sender waits (forever on a nil channel).
    /// On close: buffered values are still received, in order; then nullopt, at once, forever.
    GORUN_NODISCARD_AWAIT detail::recv_awaiter<T> recv() noexcept {
        return detail::recv_awaiter<T>{s_};
    }

    /// Sends `v` if that needs no waiting. On false, `v` is untouched (an rvalue is not moved
    /// from). Suspends: never. Errors: channel_closed on a closed channel.
    bool try_send(T&& v) { return try_send_ref(v); }
    /// Same, sending a copy.
    bool try_send(const T& v) {
        T copy(v);
        return try_send_ref(copy);
    }

    /// Receives a value if one is ready. Suspends: never.
    try_recv_result<T> try_recv() noexcept {
        try_recv_result<T> r{recv_status::empty, std::nullopt};
        if (!s_)
            return r;
        detail::chan_waiter* wake = nullptr;
        s_->lock.lock();
        auto op = s_->recv_locked(r.value, &wake);
        s_->lock.unlock();
        if (wake)
            wake->wake();
        if (op == detail::chan_state<T>::op::done)
            r.status = recv_status::ok;
        else if (op == detail::chan_state<T>::op::closed)
            r.status = recv_status::closed;
        return r;
    }

    /// Closes the channel: receivers drain what is buffered, then get nullopt; every waiting
    /// sender and receiver is woken (senders throw channel_closed).
    /// Errors: channel_closed when already closed or nil (Go panics). Suspends: never.
    void close() {
        if (!s_)
            throw channel_closed("close of nil channel");
        detail::chan_waiter* wake = nullptr;
        s_->lock.lock();
        bool ok = s_->close_locked(&wake);
        s_->lock.unlock();
        if (!ok)
            throw channel_closed("close of closed channel");
        detail::wake_list(wake);
    }

    /// Number of buffered values (Go's len). Racy by nature; 0 for nil.
    std::size_t size() const noexcept {
        if (!s_)
            return 0;
        std::lock_guard lock(s_->lock);
        return s_->count;
    }

    /// Buffer capacity (Go's cap); 0 for unbuffered and nil channels.
    std::size_t capacity() const noexcept { return s_ ? s_->cap : 0; }

    /// Sends from a plain thread (not a gorun worker), blocking the thread.
    /// Errors: channel_closed as send(). Calling it on a worker is fatal (it would block the
    /// worker; co_await send() instead).
    void blocking_send(T v) {
        if (block_thread(
                v, &detail::chan_state<T>::send_locked, &detail::chan_base::sendq, "blocking_send")
            == detail::wait_result::closed)
            throw channel_closed("send on closed channel");
    }

    /// Receives from a plain thread, blocking it; nullopt once closed and drained.
    std::optional<T> blocking_recv() {
        std::optional<T> out;
        block_thread(
            out, &detail::chan_state<T>::recv_locked, &detail::chan_base::recvq, "blocking_recv");
        return out;
    }

    /// Two handles are equal when they refer to the same channel (or are both nil).
    friend bool operator==(const channel& a, const channel& b) noexcept { return a.s_ == b.s_; }

    detail::chan_state<T>* state() const noexcept { return s_; }  ///< for select (internal)

private:
    // The plain-thread form of an operation: try it under the lock; if it would block, park a
    // thread_waiter in `queue` and sleep until a partner or close() completes it. Returns
    // done or closed.
    template <class Slot>
    detail::wait_result block_thread(
        Slot& slot,
        typename detail::chan_state<T>::op (detail::chan_state<T>::*op_locked)(
            Slot&, detail::chan_waiter**) noexcept,
        detail::wait_queue detail::chan_base::*queue,
        const char* what) {
        if (!s_)
            detail::block_thread_forever();
        detail::check_not_on_worker(what);
        detail::chan_waiter* wake = nullptr;
        detail::thread_waiter tw;
        detail::chan_waiter w{};
        s_->lock.lock();
        auto op = (s_->*op_locked)(slot, &wake);
        if (op == detail::chan_state<T>::op::would_block) {
            w.thread = &tw;
            w.is_thread = true;
            w.slot = &slot;
            (s_->*queue).push(&w);
        }
        s_->lock.unlock();
        if (wake)
            wake->wake();
        if (op == detail::chan_state<T>::op::closed)
            return detail::wait_result::closed;
        if (op == detail::chan_state<T>::op::done)
            return detail::wait_result::done;
        tw.wait();
        return w.result;
    }

    bool try_send_ref(T& v) {
        if (!s_)
            return false;
        detail::chan_waiter* wake = nullptr;
        s_->lock.lock();
        auto op = s_->send_locked(v, &wake);
        s_->lock.unlock();
        if (op == detail::chan_state<T>::op::closed)
            throw channel_closed("send on closed channel");
        if (wake)
            wake->wake();
        return op == detail::chan_state<T>::op::done;
    }

    detail::chan_state<T>* s_ = nullptr;
};

}  // namespace gorun
