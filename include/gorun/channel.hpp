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
#include <gorun/detail/chan_ring.hpp>
#include <gorun/detail/fatal.hpp>
#include <gorun/detail/spin_lock.hpp>
#include <gorun/detail/task_base.hpp>

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>
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

// Everything about a channel except the element type.
//
// Layout (three cache lines, so that producers and consumers of a buffered channel running on
// different cores do not write the same line in the fast path):
//   line 0: the lock and everything it guards: the wait queues, `closed`, and while the ring is
//           frozen its authoritative positions and count — so a locked operation touches this
//           line and the slots it moves, as before the ring had a fast path;
//   line 1: `tail` and a copy of the ring's geometry — all a fast send reads or writes besides
//           its slot;
//   line 2: `head` and another copy — all a fast receive touches besides its slot.
// The ring and its two modes are described in detail/chan_ring.hpp (CH-5, CH-6). An unbuffered
// channel (cap == 0) has no ring: every operation takes the lock, as Go does.
//
// Who touches what: everything in line 0 but `lock` only under `lock`. `head` and `tail`:
// fast-path CASes while unfrozen; the lock holder's freeze and thaw. `refs`: any handle,
// atomically.
struct alignas(64) chan_base {
    spin_lock lock;
    bool closed = false;
    bool frozen_ = false;      // CH-5: the slow bit is set in head and tail
    std::uint32_t fcount = 0;  // while frozen: buffered values, reserved included
    std::uint32_t cap_ = 0;
    wait_queue recvq;  // CH-1: at most one of recvq / sendq is non-empty
    wait_queue sendq;
    std::uint64_t fhead = 0;  // while frozen: the positions (head and tail hold them + the bit)
    std::uint64_t ftail = 0;

    alignas(64) std::atomic<std::uint64_t> tail{0};
    ring_geometry tail_geo;

    alignas(64) std::atomic<std::uint64_t> head{0};
    ring_geometry head_geo;
    std::atomic<std::size_t> refs{1};  // handles (atomic, outside the lock)

    std::uint32_t cap() const noexcept { return cap_; }

    // ---- lock held ----
    bool frozen() const noexcept { return frozen_; }
    // CH-5: from here until thaw, only lock holders move head and tail, through fhead/ftail.
    void freeze() noexcept {
        if (!frozen())
            freeze_slow();
    }
    [[gnu::noinline]] void freeze_slow() noexcept {
        std::uint64_t bit = tail_geo.slow;
        // acq_rel: a straggler's reservation ordered before ours is included in the result
        // (CH-6); its slot is then waited for by stamp.
        ftail = tail.fetch_or(bit, std::memory_order_acq_rel);
        fhead = head.fetch_or(bit, std::memory_order_acq_rel);
        fcount = static_cast<std::uint32_t>(tail_geo.distance(fhead, ftail));
        frozen_ = true;
    }
    // Buffered values, reserved slots included: exact while frozen (CH-6), else a snapshot.
    std::uint32_t count() const noexcept {
        if (frozen())
            return fcount;
        std::uint64_t bit = tail_geo.slow;
        return static_cast<std::uint32_t>(tail_geo.distance(
            head.load(std::memory_order_relaxed) & ~bit,
            tail.load(std::memory_order_relaxed) & ~bit));
    }
    // Releases the lock, first handing the ring back to the fast path when that is allowed
    // (CH-5) and useful: a ring with values and room, where the next operation would succeed
    // (an empty or full one would only send it to the lock again).
    void unlock() noexcept {
        if (frozen()) {
            std::uint32_t n = fcount;
            if (n > 0 && n < cap_ && recvq.empty() && sendq.empty() && !closed) {
                frozen_ = false;
                // release: the slots this lock holder wrote (each also published by its
                // stamp) and the positions are seen by fast operations that read the words.
                head.store(fhead, std::memory_order_release);
                tail.store(ftail, std::memory_order_release);
            }
        }
        lock.unlock();
    }
};

template <class T>
struct chan_state : chan_base {
    // A ring slot (chan_ring.hpp): the stamp says whose turn it is.
    struct slot {
        std::atomic<std::uint64_t> stamp;
        alignas(T) unsigned char storage[sizeof(T)];
        T* value() noexcept { return std::launder(reinterpret_cast<T*>(storage)); }
    };

    explicit chan_state(std::size_t capacity) {
        // Positions keep index and lap in one 64-bit word; 2^31 slots leave 32 bits of laps.
        if (capacity > INT32_MAX)
            fatal("gorun: channel capacity above 2^31-1");
        auto c = static_cast<std::uint32_t>(capacity);
        slot* s = nullptr;
        if (c) {
            s = static_cast<slot*>(
                ::operator new (sizeof(slot) * c, std::align_val_t{alignof(slot)}));
            for (std::uint32_t i = 0; i < c; ++i)
                ::new (static_cast<void*>(&s[i].stamp)) std::atomic<std::uint64_t>(i);
        }
        cap_ = c;
        tail_geo.init(c, s);
        head_geo.init(c, s);
        if (!c) {
            // No ring: frozen for good, so that the fast path's first test sends every
            // operation to the lock without a separate capacity check.
            frozen_ = true;
            tail.store(tail_geo.slow, std::memory_order_relaxed);
            head.store(head_geo.slow, std::memory_order_relaxed);
        }
    }
    ~chan_state() {
        // CH-3: values still buffered are destroyed exactly once, with the channel. Nobody else
        // holds the channel any more, so every reserved slot has been published.
        if (!cap_)
            return;
        const ring_geometry& g = tail_geo;
        std::uint64_t p = frozen() ? fhead : head.load(std::memory_order_acquire);
        std::uint64_t end = frozen() ? ftail : tail.load(std::memory_order_acquire);
        for (; p != end; p = g.next(p))
            slots()[g.index(p)].value()->~T();
        ::operator delete (g.slots, std::align_val_t{alignof(slot)});
    }
    chan_state(const chan_state&) = delete;
    chan_state& operator=(const chan_state&) = delete;

    slot* slots() const noexcept { return static_cast<slot*>(tail_geo.slots); }

    // ---- the fast path (no lock; chan_ring.hpp). False: take the lock. ----

    // Sends `v` if the ring is in fast mode and has room; `v` is moved from only on success.
    bool try_fast_send(T& v) noexcept {
        const ring_geometry& g = tail_geo;
        std::uint64_t t = tail.load(std::memory_order_relaxed);
        for (;;) {
            if (t & g.slow)
                return false;  // frozen: waiters, close or a select hold the channel
            slot& s = static_cast<slot*>(g.slots)[g.index(t)];
            std::uint64_t st = s.stamp.load(std::memory_order_acquire);
            if (st == t) {
                // Relaxed: the CAS only reserves position t; the value travels by the stamp.
                if (tail.compare_exchange_weak(
                        t, g.next(t), std::memory_order_relaxed, std::memory_order_relaxed)) {
                    ::new (static_cast<void*>(s.storage)) T(std::move(v));
                    s.stamp.store(t + 1, std::memory_order_release);  // pairs with recv's acquire
                    return true;
                }
            } else if (st + g.one_lap == t + 1) {
                return false;  // the slot still holds last lap's value: full
            } else {
                t = tail.load(std::memory_order_relaxed);  // another sender got t first
            }
        }
    }

    // Receives into `out` if the ring is in fast mode and holds a published value.
    bool try_fast_recv(std::optional<T>& out) noexcept {
        const ring_geometry& g = head_geo;
        std::uint64_t h = head.load(std::memory_order_relaxed);
        for (;;) {
            if (h & g.slow)
                return false;
            slot& s = static_cast<slot*>(g.slots)[g.index(h)];
            std::uint64_t st = s.stamp.load(std::memory_order_acquire);  // pairs with send
            if (st == h + 1) {
                if (head.compare_exchange_weak(
                        h, g.next(h), std::memory_order_relaxed, std::memory_order_relaxed)) {
                    T* p = s.value();
                    out.emplace(std::move(*p));
                    p->~T();
                    // Frees the slot for the sender of the next lap (pairs with its acquire).
                    s.stamp.store(h + g.one_lap, std::memory_order_release);
                    return true;
                }
            } else if (st == h) {
                return false;  // empty (or its sender is still writing it: the lock waits)
            } else {
                h = head.load(std::memory_order_relaxed);  // another receiver got h first
            }
        }
    }

    // ---- the frozen ring (lock held, CH-6) ----
    T take_front() noexcept {
        const ring_geometry& g = head_geo;
        std::uint64_t p = fhead;
        slot& s = slots()[g.index(p)];
        wait_for_stamp(s.stamp, p + 1);  // a straggling fast send finishes its write
        T* v = s.value();
        T out = std::move(*v);
        v->~T();
        s.stamp.store(p + g.one_lap, std::memory_order_release);
        fhead = g.next(p);
        --fcount;
        return out;
    }
    void put_back(T&& v) noexcept {
        const ring_geometry& g = tail_geo;
        std::uint64_t p = ftail;
        slot& s = slots()[g.index(p)];
        wait_for_stamp(s.stamp, p);  // a straggling fast receive finishes moving out
        ::new (static_cast<void*>(s.storage)) T(std::move(v));
        s.stamp.store(p + 1, std::memory_order_release);
        ftail = g.next(p);
        ++fcount;
    }

    // ---- the operations, lock held. They never wake anyone themselves: waking may take a
    // syscall, so it happens after the unlock, on the waiter they return. A caller releases
    // the lock with chan_base::unlock(), which may thaw the ring. ----

    enum class op { done, would_block, closed };

    // Sends `v` without blocking. `v` is moved from only when the result is done.
    // Always inlined: out of line, the calls cost a fifth of a rendezvous (callgrind).
    [[gnu::always_inline]] op send_locked(T& v, chan_waiter** wake) noexcept {
        if (closed)
            return op::closed;
        if (cap_) {
            // Not frozen: nobody waits (CH-5), so a fast send is the whole operation.
            if (!frozen()) {
                if (try_fast_send(v))
                    return op::done;
                freeze();
            }
            std::uint32_t n = fcount;
            if (n == cap_)
                return op::would_block;
            if (n > 0 || recvq.empty()) {
                put_back(std::move(v));
                return op::done;
            }
        }
        if (chan_waiter* w = recvq.pop_claimed()) {
            // Receivers wait only on an empty buffer (CH-1), so handing over keeps FIFO.
            static_cast<std::optional<T>*>(w->slot)->emplace(std::move(v));
            w->result = wait_result::done;
            *wake = w;
            return op::done;
        }
        if (cap_) {
            put_back(std::move(v));  // every queued receiver was a finished select's loser
            return op::done;
        }
        return op::would_block;
    }

    // Receives into `out` without blocking.
    [[gnu::always_inline]] op recv_locked(std::optional<T>& out, chan_waiter** wake) noexcept {
        if (!frozen()) {
            if (try_fast_recv(out))
                return op::done;
            freeze();
        }
        if (chan_waiter* w = sendq.pop_claimed()) {
            T& sent = *static_cast<T*>(w->slot);
            if (cap() == 0) {
                out.emplace(std::move(sent));
            } else {
                // A sender waits only on a full buffer: take the oldest value, and the
                // sender's value goes to the back (CH-3: FIFO).
                GORUN_ASSERT(fcount == cap_, "CH-1: senders wait only on a full buffer");
                out.emplace(take_front());
                put_back(std::move(sent));
            }
            w->result = wait_result::done;
            *wake = w;
            return op::done;
        }
        if (cap_ && fcount > 0) {
            out.emplace(take_front());
            return op::done;
        }
        return closed ? op::closed : op::would_block;
    }

    // Closes; returns every waiter to wake, linked through `next`. False if already closed.
    bool close_locked(chan_waiter** wake) noexcept {
        if (closed)
            return false;
        // Freeze first: every fast send that still succeeds linearises before the close
        // (CH-4), and none succeeds after it (CH-5: a closed channel is never thawed).
        if (cap())
            freeze();
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

    // The lock-free fast path of a buffered channel (chan_ring.hpp): done without suspending.
    bool await_ready() noexcept { return c && c->try_fast_send(value); }
    bool await_suspend(std::coroutine_handle<> h) noexcept {
        if (!c) {
            park_forever(h);  // nil channel
            return true;
        }
        chan_waiter* wake = nullptr;
        c->lock.lock();
        switch (c->send_locked(value, &wake)) {
            case chan_state<T>::op::done:
                c->unlock();
                if (wake)
                    wake->wake();
                return false;
            case chan_state<T>::op::closed:
                c->unlock();
                closed = true;
                return false;
            case chan_state<T>::op::would_block:
                break;
        }
        w.set_task(park_current(h));
        w.slot = &value;
        c->sendq.push(&w);
        c->unlock();  // from here a receiver may resume us: touch nothing
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

    bool await_ready() noexcept { return c && c->try_fast_recv(out); }
    bool await_suspend(std::coroutine_handle<> h) noexcept {
        if (!c) {
            park_forever(h);  // nil channel
            return true;
        }
        chan_waiter* wake = nullptr;
        c->lock.lock();
        auto r = c->recv_locked(out, &wake);
        if (r != chan_state<T>::op::would_block) {
            c->unlock();
            if (wake)
                wake->wake();
            return false;
        }
        w.set_task(park_current(h));
        w.slot = &out;
        c->recvq.push(&w);
        c->unlock();  // from here a sender or close may resume us: touch nothing
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
        if (s_->try_fast_recv(r.value)) {
            r.status = recv_status::ok;
            return r;
        }
        detail::chan_waiter* wake = nullptr;
        s_->lock.lock();
        auto op = s_->recv_locked(r.value, &wake);
        s_->unlock();
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
        s_->unlock();
        if (!ok)
            throw channel_closed("close of closed channel");
        detail::wake_list(wake);
    }

    /// Number of buffered values (Go's len). Racy by nature; 0 for nil.
    std::size_t size() const noexcept {
        if (!s_)
            return 0;
        s_->lock.lock();
        auto n = static_cast<std::size_t>(s_->count());
        s_->unlock();
        return n;
    }

    /// Buffer capacity (Go's cap); 0 for unbuffered and nil channels.
    std::size_t capacity() const noexcept { return s_ ? s_->cap() : 0; }

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
            w.set_thread(&tw);
            w.slot = &slot;
            (s_->*queue).push(&w);
        }
        s_->unlock();
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
        if (s_->try_fast_send(v))
            return true;
        detail::chan_waiter* wake = nullptr;
        s_->lock.lock();
        auto op = s_->send_locked(v, &wake);
        s_->unlock();
        if (op == detail::chan_state<T>::op::closed)
            throw channel_closed("send on closed channel");
        if (wake)
            wake->wake();
        return op == detail::chan_state<T>::op::done;
    }

    detail::chan_state<T>* s_ = nullptr;
};

}  // namespace gorun
