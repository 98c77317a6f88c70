// Multishot streams: the home worker's side and the reader's side of the hand-off.
// include/gorun/detail/io_stream.hpp states the invariants (MS-1..MS-4); docs/design/io.md,
// "Multishot streams", has the prose.
#include <gorun/detail/fatal.hpp>
#include <gorun/detail/io_stream.hpp>

#include "io/op.hpp"
#include "runtime_state.hpp"

#include <liburing.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <utility>

namespace gorun::detail {

io_stream::~io_stream() {
    bool ended;
    {
        std::lock_guard g(lock_);
        ended = ended_;
    }
    // MS-4: the kernel may still post into slot_, and the home worker still has op_ in its
    // in-flight list. Nothing here can wait for that.
    if (armed_ && !ended && !home_runtime_dead())
        fatal("gorun: a uring::multishot was destroyed while still armed: the kernel may still "
              "post completions into it. Read next() until it yields nullopt (or a completion "
              "without IORING_CQE_F_MORE), or co_await its close(), before it goes out of scope");
    if (fds_) {
        for (std::uint32_t i = 0; i < count_; ++i) {
            int r = buf_[(head_ + i) % cap_].res;
            if (r >= 0)
                ::close(r);
        }
    }
    if (buf_ != inline_)
        delete[] buf_;
}

bool io_stream::home_runtime_dead() const noexcept {
    return op_.home && op_.home->rt->dead.load(std::memory_order_seq_cst);
}

void io_stream::push(io_stream_entry e) {
    if (count_ == cap_) {
        // MS-1: the reader is behind and the kernel does not stop: grow (doubling).
        auto* nb = new io_stream_entry[std::size_t{cap_} * 2];
        for (std::uint32_t i = 0; i < count_; ++i)
            nb[i] = buf_[(head_ + i) % cap_];
        if (buf_ != inline_)
            delete[] buf_;
        buf_ = nb;
        cap_ *= 2;
        head_ = 0;
    }
    buf_[(head_ + count_) % cap_] = e;
    ++count_;
}

void io_stream::end_early(int res) noexcept {
    std::lock_guard g(lock_);
    push({res, 0});
    ended_ = true;
}

void io_stream::begin(
    std::uint8_t opcode, std::int32_t fd, std::int64_t deadline_ns, std::stop_token stop) noexcept {
    slot_.opcode = opcode;
    slot_.fd = fd;
    armed_ = true;
    io_begin_detached(op_, &slot_, 1, deadline_ns);
    // May run io_cancel at once (stop requested meanwhile): on the home worker, that only
    // prepares the cancel SQE.
    if (stop.stop_possible())
        cb_.emplace(std::move(stop), io_stop_fn{&op_});
}

bool io_stream::take(std::optional<io_stream_entry>& out) noexcept {
    std::lock_guard g(lock_);
    if (count_ > 0) {
        out = buf_[head_];
        head_ = (head_ + 1) % cap_;
        --count_;
        return true;
    }
    if (ended_) {
        out.reset();
        return true;
    }
    return false;
}

bool io_stream::suspend(std::coroutine_handle<> h) noexcept {
    task_base* t = park_current(h);
    std::lock_guard g(lock_);
    if (count_ > 0 || ended_)
        return false;
    waiter_ = t;  // MS-2: deliver/finished take it under the lock
    return true;
}

void io_stream::cancel() noexcept {
    if (armed_)
        io_cancel(op_);  // after the op has finished: does nothing
}

bool io_stream::close_begin() noexcept {
    io_stream_entry* dropped = nullptr;
    std::uint32_t ndropped = 0;
    io_stream_entry small[inline_capacity];
    bool ended;
    {
        std::lock_guard g(lock_);
        closing_ = true;
        ended = ended_;
        if (fds_ && count_ > 0) {
            // Copied out, closed after unlocking (a syscall does not belong under a spin lock).
            dropped = count_ <= inline_capacity ? small : new io_stream_entry[count_];
            for (std::uint32_t i = 0; i < count_; ++i)
                dropped[i] = buf_[(head_ + i) % cap_];
            ndropped = count_;
            count_ = 0;
        } else {
            // A completion flagged IORING_CQE_F_BUFFER has taken a provided buffer that only
            // the caller can give back (buffer_ring::recycle): dropping it would shrink the
            // ring for good, until every recv on it ends with -ENOBUFS. Keep those (in order)
            // for next(); drop the rest.
            std::uint32_t kept = 0;
            for (std::uint32_t i = 0; i < count_; ++i) {
                io_stream_entry e = buf_[(head_ + i) % cap_];
                if (e.flags & IORING_CQE_F_BUFFER)
                    buf_[(head_ + kept++) % cap_] = e;  // kept <= i: only slots already read
            }
            count_ = kept;
        }
    }
    for (std::uint32_t i = 0; i < ndropped; ++i)
        if (dropped[i].res >= 0)
            ::close(dropped[i].res);
    if (dropped != small)
        delete[] dropped;
    if (!ended)
        cancel();
    return ended;
}

bool io_stream::suspend_until_end(std::coroutine_handle<> h) noexcept {
    task_base* t = park_current(h);
    std::lock_guard g(lock_);
    if (ended_)
        return false;
    waiter_ = t;
    return true;
}

std::size_t io_stream::buffered() const noexcept {
    std::lock_guard g(lock_);
    return count_;
}

unsigned io_stream::home_index() const noexcept {
    return op_.home ? op_.home->index : 0;
}

void io_stream::deliver(std::int32_t res, std::uint32_t flags, bool draining) noexcept {
    if (draining) {
        // MS-4: nobody reads again; an fd would leak.
        if (fds_ && res >= 0)
            ::close(res);
        return;
    }
    int to_close = -1;
    task_base* t = nullptr;
    {
        std::lock_guard g(lock_);
        if (closing_) {
            if (fds_ && res >= 0)
                to_close = res;
            else if (flags & IORING_CQE_F_BUFFER)
                push({res, flags});  // its buffer must reach recycle() (close_begin); the waiter
                                     // in close() waits for the end, not for this
        } else {
            push({res, flags});
            t = std::exchange(waiter_, nullptr);
        }
    }
    if (to_close >= 0)
        ::close(to_close);
    if (t)
        ready(t);  // the op stays armed: the reader cannot free the stream (MS-4)
}

void io_stream::finished(bool draining, io_op& op, bool cancelled) noexcept {
    io_stream& s = *op.stream;
    io_cqe_slot& sl = op.slots[0];
    if (draining) {
        // IO-2/MS-4: delivers nothing; a second call (a late pop from io_cancels) is harmless.
        if (s.fds_ && sl.res >= 0) {
            ::close(sl.res);
            sl.res = -ECANCELED;
        }
        return;
    }
    int res = sl.res;
    // A cancelled multishot ends with -ECANCELED (io-wq: -EINTR); a deadline says so.
    if (cancelled && (res == -ECANCELED || res == -EINTR))
        res = op.timed_out ? -ETIMEDOUT : -ECANCELED;
    int to_close = -1;
    task_base* t;
    {
        std::lock_guard g(s.lock_);
        if (s.closing_) {
            if (s.fds_ && res >= 0)
                to_close = res;
            else if (sl.flags & IORING_CQE_F_BUFFER)
                s.push({res, sl.flags});  // its buffer must reach recycle() (close_begin)
        } else {
            s.push({res, sl.flags});
        }
        s.ended_ = true;  // MS-3
        t = std::exchange(s.waiter_, nullptr);
    }
    // The unlock was the last touch of `s`: its reader may destroy it from here on.
    if (to_close >= 0)
        ::close(to_close);
    if (t)
        ready(t);
}

}  // namespace gorun::detail
