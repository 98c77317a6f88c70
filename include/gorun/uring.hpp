// gorun/uring.hpp — awaiting SQEs you prepare yourself, on the current worker's io_uring.
//
//     int res = co_await gorun::uring::op([&](io_uring_sqe* sqe) {
//         io_uring_prep_splice(sqe, in, -1, out, -1, len, 0);
//     });
//     auto [res2, flags] = co_await gorun::uring::op_with_flags(prep, stop_token);
//     auto cqes = co_await gorun::uring::linked<2>([&](std::span<io_uring_sqe*, 2> s) {
//         io_uring_prep_write(s[0], fd, buf, len, 0);
//         io_uring_prep_fsync(s[1], fd, 0);
//     });
//
// This is the one public gorun header that includes <liburing.h>: it lets io_uring code gorun
// does not wrap (splice, NVMe passthrough, custom flags) run inside a task. The callable gets
// SQEs from the ring of the worker running the task and fills them in (gorun sets user_data
// afterwards, so leave it alone); the task suspends, and resumes with the completion's `res`
// (>= 0, or -errno as liburing reports it). SQEs made during one scheduler pass go to the
// kernel together in one io_uring_enter, with the reaping of completions (docs/design/io.md).
//
// Beyond single ops: uring::multishot reads a multishot SQE (accept, recv with provided buffers,
// poll, timeout) as a stream of completions; uring::on_every_ring runs a function on every
// worker's ring (they are SINGLE_ISSUER), on which register_files / register_buffers (all or
// nothing) and buffer_ring (provided buffers per ring) are built:
//
//     uring::multishot conns(uring::fd_results, [&](io_uring_sqe* sqe) {
//         io_uring_prep_multishot_accept(sqe, listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
//     });
//     while (auto c = co_await conns.next()) { ... }   // ends after the final completion
//     co_await uring::register_files(fds);              // then IOSQE_FIXED_FILE on any worker
//
// Cancellation (IO-1): every call takes an optional io_control (a std::stop_token and/or a
// deadline). Cancelling submits IORING_OP_ASYNC_CANCEL for the op; the task resumes only once
// the op's own completion has arrived, so buffers the SQE points at — typically in the awaiting
// frame — may be used until then and are never written after the task resumes.
#pragma once

#include <gorun/config.hpp>

#include <gorun/io_control.hpp>
#include <gorun/io_result.hpp>
#include <gorun/task.hpp>

#include <gorun/detail/io_op.hpp>
#include <gorun/detail/io_stream.hpp>

#include <liburing.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <stop_token>
#include <type_traits>
#include <utility>
#include <vector>

namespace gorun {

namespace detail {

// Takes `n` free SQEs from the current worker's ring (flushing the SQ first if they do not all
// fit, so a linked chain is never split across two submissions). 0, or -EINVAL when n exceeds
// the ring's SQ size, -EBUSY when the kernel refuses to take more. Fatal outside a worker.
int io_get_sqes(io_uring_sqe** out, unsigned n) noexcept;

// The current worker's ring, or nullptr outside a worker.
io_uring* io_current_ring() noexcept;

enum class uring_result { res, with_flags, chain };

template <std::size_t N, class Prep, uring_result Mode>
class uring_awaiter;

class multishot_next_awaiter;
class multishot_close_awaiter;

// Running a function on every worker's thread with its ring (uring::on_every_ring). Each call
// is pushed onto its worker's MPSC `ring_calls` stack (runtime_state.hpp); the worker runs it in
// housekeeping and counts `remaining` down; the last one makes the task runnable.
struct ring_call_batch;
struct ring_call {
    ring_call* next = nullptr;
    ring_call_batch* batch = nullptr;
    int res = 0;
    std::exception_ptr error;
};
struct ring_call_batch {
    int (*fn)(void* ctx, io_uring* ring, unsigned worker_index) = nullptr;  // may throw
    void* ctx = nullptr;
    std::vector<ring_call> calls;  // one per worker
    std::atomic<unsigned> remaining{0};
    task_base* task = nullptr;
};
// The current runtime's worker count; fatal outside a gorun task.
unsigned ring_call_workers() noexcept;
// Parks the running task and queues calls[i] on worker i (waking it); the task is resumed
// when every call has run. The caller touches nothing of `b` until then.
void ring_call_start(ring_call_batch& b, std::coroutine_handle<> h) noexcept;

template <class Fn>
class on_every_ring_awaiter;

struct buffer_ring_state;

}  // namespace detail

namespace uring {

/// The completion of one SQE: its `res` (>= 0 or -errno) and `flags` (IORING_CQE_F_*).
struct completion {
    int res = 0;
    unsigned flags = 0;
};

/// Prepares one SQE with `prep(io_uring_sqe*)` on the current worker's ring and awaits its
/// completion; yields `res`.
///
/// Suspends: always (unless `ctl` is already stopped or past its deadline: then -ECANCELED or
/// -ETIMEDOUT without submitting). Thread-safety: call from a gorun task.
/// Cancellation: `ctl` cancels the op (see the file comment); the task resumes after its CQE.
/// On shutdown: in-flight ops are cancelled and their completions reaped before the frame is
/// destroyed (IO-2). Errors: `res` as the kernel reports it (-errno); not retried.
template <class Prep>
GORUN_NODISCARD_AWAIT detail::uring_awaiter<1, Prep, detail::uring_result::res>
op(Prep prep, io_control ctl = {}) {
    return {std::move(prep), std::move(ctl), false};
}

/// Like op(), but yields the whole completion (res and flags: IORING_CQE_F_MORE, buffer ids).
template <class Prep>
GORUN_NODISCARD_AWAIT detail::uring_awaiter<1, Prep, detail::uring_result::with_flags>
op_with_flags(Prep prep, io_control ctl = {}) {
    return {std::move(prep), std::move(ctl), false};
}

/// Like op(), for an SQE whose successful result is a new file descriptor (openat, accept,
/// socket). If the fd will never reach the task — the op was cancelled but completed anyway,
/// or the runtime shuts down — gorun closes it, and a cancelled op yields -ECANCELED.
template <class Prep>
GORUN_NODISCARD_AWAIT detail::uring_awaiter<1, Prep, detail::uring_result::res>
op_returning_fd(Prep prep, io_control ctl = {}) {
    return {std::move(prep), std::move(ctl), true};
}

/// Prepares `N` SQEs with `prep(std::span<io_uring_sqe*, N>)` as one linked chain and awaits
/// all their completions; yields them in SQE order. gorun sets IOSQE_IO_LINK on every SQE but
/// the last unless the callable chose IOSQE_IO_HARDLINK. When a link fails, the kernel
/// completes the rest with -ECANCELED. N must not exceed the ring's SQ size
/// (runtime_options::ring_entries); otherwise every completion reports -EINVAL.
///
/// Cancellation: cancels every SQE of the chain still pending; resumes after all CQEs.
template <std::size_t N, class Prep>
GORUN_NODISCARD_AWAIT detail::uring_awaiter<N, Prep, detail::uring_result::chain>
linked(Prep prep, io_control ctl = {}) {
    static_assert(N >= 1, "a chain has at least one SQE");
    return {std::move(prep), std::move(ctl), false};
}

/// Tag for multishot: the completions' results are new file descriptors (multishot accept).
struct fd_results_t {
    explicit fd_results_t() = default;
};
inline constexpr fd_results_t fd_results{};

/// A multishot SQE read as a stream of completions: accept with IORING_ACCEPT_MULTISHOT
/// (io_uring_prep_multishot_accept), recv with IORING_RECV_MULTISHOT and provided buffers
/// (buffer_ring), poll with IORING_POLL_ADD_MULTI, timeouts with IORING_TIMEOUT_MULTISHOT.
///
///     uring::multishot accepts(uring::fd_results, [&](io_uring_sqe* sqe) {
///         io_uring_prep_multishot_accept(sqe, listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
///     }, ctl);
///     while (auto c = co_await accepts.next()) {
///         if (c->res < 0) break;                 // the final completion carries the reason
///         serve(c->res);
///         if (!(c->flags & IORING_CQE_F_MORE)) break;
///     }
///     co_await accepts.close();                  // cancels if still armed, waits for the end
///
/// The constructor prepares the SQE on the current worker's ring (the op's home); the kernel
/// then posts one CQE per event, flagged IORING_CQE_F_MORE until the last. next() yields them
/// in order, the last one included (its flags lack F_MORE), then nullopt forever. gorun loses
/// none: completions that arrive while the task is busy are queued in the object (16 inline,
/// then a heap ring that doubles — there is no way to pause a multishot op short of
/// cancelling it). The task may migrate between workers while the stream is armed; the home
/// worker hands each completion over (docs/design/io.md, "Multishot streams").
///
/// Lifetime (IO-1): the object lives in the task's frame and the kernel writes into it until
/// the stream has ended, i.e. next() has yielded its final completion or nullopt, or close()
/// has returned. Destroying it before is a programming error and fatal (a destructor cannot
/// wait for the kernel). So code that may throw while a stream is armed catches, and after
/// the handler (co_await is not allowed inside one) co_awaits close() before rethrowing.
/// At runtime shutdown (IO-2) an armed stream is cancelled and reaped like any op, and its
/// frame destroyed without error. Not movable: the kernel holds its address.
///
/// Cancellation: `ctl`'s stop_token or deadline, or cancel(), submits IORING_OP_ASYNC_CANCEL
/// through the home worker (from any thread). The stream still ends only after the kernel's
/// final CQE (and the cancel's): completions queued or posted before it are still yielded,
/// then the final one with -ECANCELED (-ETIMEDOUT for the deadline), or its real result if
/// the op ended by itself first.
/// Errors: each completion's `res` as the kernel reports it. Nothing is retried; the kernel ends
/// a multishot op on its own for some errors (recv out of provided buffers: -ENOBUFS), and a
/// new multishot then re-arms it.
/// Thread-safety: next() and close() from the owning task only; cancel() from anywhere.
class multishot {
public:
    /// Prepares the SQE with `prep(io_uring_sqe*)` (set the multishot flag; leave user_data)
    /// and submits it with the worker's next flush. Suspends: no. If `ctl` is already stopped
    /// or past its deadline, or the ring cannot take an SQE, nothing is submitted and the
    /// stream yields one final completion (-ECANCELED, -ETIMEDOUT, -EBUSY). An exception from
    /// `prep` propagates and nothing is submitted.
    template <class Prep>
    explicit multishot(Prep prep, io_control ctl = {})
        : core_(false) {
        arm(prep, ctl);
    }
    /// The same for an SQE whose results are new fds: fds still queued when the stream is
    /// closed or destroyed, or arriving after close() began or at shutdown, are closed by
    /// gorun. An fd that next() yielded is the caller's.
    template <class Prep>
    multishot(fd_results_t, Prep prep, io_control ctl = {})
        : core_(true) {
        arm(prep, ctl);
    }
    multishot(const multishot&) = delete;
    multishot& operator=(const multishot&) = delete;

    /// The next completion: `res` and `flags` (IORING_CQE_F_MORE, IORING_CQE_F_BUFFER with the
    /// buffer id above IORING_CQE_BUFFER_SHIFT). nullopt once the final completion has been
    /// yielded. Suspends: when nothing is queued and the stream has not ended.
    GORUN_NODISCARD_AWAIT detail::multishot_next_awaiter next() noexcept;

    /// Asks the kernel to end the stream (IORING_OP_ASYNC_CANCEL via the home worker). Does not
    /// suspend and does not drop anything: keep reading next() until it ends. Any thread.
    void cancel() noexcept { core_.cancel(); }

    /// Drops what is queued (closing fds of an fd stream), cancels the op if it is still armed,
    /// and waits for its final CQE, which it drops too. Afterwards the object may be destroyed.
    /// Exception: a completion flagged IORING_CQE_F_BUFFER (queued, or arriving before the end)
    /// is kept, because its provided buffer must be recycled: after close(), next() yields
    /// those, then nullopt. Read them before destroying the stream, or the buffers are lost
    /// (buffer_ring::close_stream does both).
    /// Suspends: until the kernel's final completion (at once if the stream has ended).
    GORUN_NODISCARD_AWAIT detail::multishot_close_awaiter close() noexcept;

    /// Completions queued and not yet read (once close() began: only those holding a buffer).
    std::size_t buffered() const noexcept { return core_.buffered(); }

    /// The index of the worker whose ring holds the SQE (0 .. workers-1): provided buffers of a
    /// buffer_ring are per ring, so a CQE's buffer id refers to this ring's buffers.
    unsigned ring_index() const noexcept { return core_.home_index(); }

private:
    template <class Prep>
    void arm(Prep& prep, io_control& ctl) {
        if (ctl.stop.stop_requested()) {
            core_.end_early(-ECANCELED);
            return;
        }
        std::int64_t deadline_ns = ctl.deadline_ns();
        if (deadline_ns != INT64_MAX && deadline_ns <= detail::now_ns()) {
            core_.end_early(-ETIMEDOUT);
            return;
        }
        io_uring_sqe* sqe;
        if (int e = detail::io_get_sqes(&sqe, 1); e < 0) {
            core_.end_early(e);
            return;
        }
        try {
            prep(sqe);
        } catch (...) {
            io_uring_prep_nop(sqe);  // taken from the ring already: make it harmless
            io_uring_sqe_set_data64(sqe, 0);
            throw;
        }
        io_uring_sqe_set_data(sqe, core_.slot());
        core_.begin(sqe->opcode, sqe->fd, deadline_ns, std::move(ctl.stop));
    }

    friend class detail::multishot_next_awaiter;
    friend class detail::multishot_close_awaiter;
    detail::io_stream core_;
};

/// Runs `fn(io_uring* ring, unsigned worker_index)` (or `fn(io_uring* ring)`) once on every
/// worker's own thread with that worker's ring, and yields the results in worker order.
/// This is the way to call io_uring_register_* on every ring: the rings are SINGLE_ISSUER,
/// so only a ring's own thread may register on it (another thread gets -EEXIST).
///
/// Suspends: until every worker has run `fn` (each at its next housekeeping: at once when
/// idle, within 61 scheduling ticks when busy). `fn` must not block for long or suspend.
/// Errors: `fn`'s ints as they are; an exception from `fn` is rethrown here (the first in
/// worker order) after every worker has run. Cancellation: none (the calls are short).
/// Thread-safety: from a gorun task. Calls from several tasks may interleave per worker.
template <class Fn>
GORUN_NODISCARD_AWAIT detail::on_every_ring_awaiter<Fn> on_every_ring(Fn fn) {
    return detail::on_every_ring_awaiter<Fn>(std::move(fn));
}

/// Registers `fds` as the fixed-file table of every worker's ring (io_uring_register_files),
/// so that SQEs may use IOSQE_FIXED_FILE with an index into it on whatever worker a task runs.
/// All or nothing: if a worker's ring refuses (EBUSY: it has a table already; EMFILE, ENOMEM),
/// the rings that accepted are unregistered again and the first worker's error is returned.
/// Suspends: yes (on_every_ring). `fds` must stay valid until the task completes.
[[nodiscard]] task<io_result<void>> register_files(std::span<const int> fds);
/// Unregisters every worker's fixed-file table. Errors: the first worker's (ENXIO: none).
/// No op using the table may be in flight: older kernels (those with io_rsrc_ref_quiesce, 5.13
/// to about 6.3 — Debian 12's 6.1 among them) make the unregister wait for such ops on the
/// worker's thread, which then runs nothing else until they complete.
[[nodiscard]] task<io_result<void>> unregister_files();
/// Registers `buffers` as fixed buffers of every worker's ring (io_uring_register_buffers) for
/// io_uring_prep_read_fixed / write_fixed with their index. All or nothing, as register_files.
/// The memory must stay valid until unregister_buffers (or the runtime's end).
[[nodiscard]] task<io_result<void>> register_buffers(std::span<const iovec> buffers);
/// Unregisters every worker's fixed buffers. Errors: the first worker's (ENXIO: none).
/// No op using them may be in flight (as unregister_files).
[[nodiscard]] task<io_result<void>> unregister_buffers();

/// Provided buffers for multishot recv (and any IOSQE_BUFFER_SELECT op): a buffer ring
/// (IORING_REGISTER_PBUF_RING, Linux 5.19+) registered under one group id on every worker's
/// ring, each ring with its own `entries` buffers of `buffer_size` bytes.
///
///     auto br = (co_await uring::buffer_ring::create(7, 64, 4096)).value();
///     uring::multishot rx([&](io_uring_sqe* sqe) {
///         io_uring_prep_recv_multishot(sqe, fd, nullptr, 0, 0);
///         sqe->flags |= IOSQE_BUFFER_SELECT;
///         sqe->buf_group = br.group();
///     });
///     while (auto c = co_await rx.next()) {
///         if (c->flags & IORING_CQE_F_BUFFER) {
///             consume(br.data(rx, *c));
///             br.recycle(rx, *c);
///         }
///         ...
///     }
///     co_await br.close();
///
/// A completion's buffer belongs to the ring of the op's home worker (multishot::ring_index);
/// data() and recycle() take the stream (or that index) for that reason. A CQE flagged
/// IORING_CQE_F_BUFFER has consumed a buffer, even with res 0: recycle it, or the ring runs
/// dry and the kernel ends the multishot recv with -ENOBUFS.
/// Lifetime: close() unregisters it from every ring; destroying a registered buffer_ring while
/// its runtime runs is fatal (the kernel could still write into the buffers). At shutdown
/// (IO-2) it is freed without error. It must not outlive its runtime. Move-only.
/// Thread-safety: recycle() from any thread (a lock per ring); the rest from a gorun task.
class buffer_ring {
public:
    /// Makes and registers the buffers on every worker's ring. Suspends: yes.
    /// Errors: EINVAL (entries not a power of two in 1..32768, buffer_size 0 or over 4 GiB),
    /// ENOMEM, EEXIST (the group id is taken on a ring), EINVAL from an old kernel; all or
    /// nothing, as register_files.
    [[nodiscard]] static task<io_result<buffer_ring>>
    create(std::uint16_t group, unsigned entries, std::size_t buffer_size);

    buffer_ring() noexcept;
    buffer_ring(buffer_ring&&) noexcept;
    buffer_ring& operator=(buffer_ring&&) noexcept;
    ~buffer_ring();

    std::uint16_t group() const noexcept;
    std::size_t buffer_size() const noexcept;
    bool is_registered() const noexcept;

    /// The bytes of `c`'s buffer (id `c.flags >> IORING_CQE_BUFFER_SHIFT`, `c.res` long) on the
    /// ring of `stream`. Empty if `c` carries no buffer.
    std::span<std::byte> data(const multishot& stream, completion c) const noexcept {
        return data(stream.ring_index(), c);
    }
    std::span<std::byte> data(unsigned ring_index, completion c) const noexcept;

    /// Gives `c`'s buffer back to its ring. Nothing if `c` carries no buffer.
    void recycle(const multishot& stream, completion c) noexcept {
        recycle(stream.ring_index(), c);
    }
    void recycle(unsigned ring_index, completion c) noexcept;

    /// Closes `stream` (a recv stream selecting buffers from this group) and gives back every
    /// buffer its remaining completions hold — those multishot::close() keeps for that reason —
    /// so that the stream may be destroyed without the ring running dry. Suspends: until the
    /// stream's final completion (multishot::close()).
    [[nodiscard]] task<> close_stream(multishot& stream);

    /// Unregisters the group from every ring and frees the buffers. No op may be using them.
    /// Suspends: yes. Errors: the first worker's.
    [[nodiscard]] task<io_result<void>> close();

private:
    explicit buffer_ring(std::unique_ptr<detail::buffer_ring_state> s) noexcept;
    std::unique_ptr<detail::buffer_ring_state> s_;
};

/// The io_uring of the worker running the calling task, for registering files or buffers
/// (io_uring_register_*) on it. Rings are single-issuer: use it only from a task running on
/// that worker, before the task next suspends (it may move to another worker afterwards).
/// nullptr outside a gorun task.
inline io_uring* current_ring() noexcept {
    return detail::io_current_ring();
}

}  // namespace uring

namespace detail {

template <std::size_t N, class Prep, uring_result Mode>
class uring_awaiter {
public:
    using result_type = std::conditional_t<
        Mode == uring_result::res,
        int,
        std::conditional_t<
            Mode == uring_result::with_flags,
            uring::completion,
            std::array<uring::completion, N>>>;

    uring_awaiter(Prep prep, io_control ctl, bool result_is_fd)
        : prep_(std::move(prep))
        , stop_(std::move(ctl.stop))
        , deadline_ns_(ctl.deadline_ns()) {
        op_.result_is_fd = result_is_fd;
    }
    uring_awaiter(const uring_awaiter&) = delete;
    uring_awaiter& operator=(const uring_awaiter&) = delete;

    bool await_ready() noexcept {
        if (stop_.stop_requested()) {
            early_ = -ECANCELED;
            return true;
        }
        if (deadline_ns_ != INT64_MAX && deadline_ns_ <= now_ns()) {
            early_ = -ETIMEDOUT;
            return true;
        }
        return false;
    }

    bool await_suspend(std::coroutine_handle<> h) {
        io_uring_sqe* sqes[N];
        if (int e = io_get_sqes(sqes, N); e < 0) {
            early_ = e;
            return false;
        }
        try {
            if constexpr (Mode == uring_result::chain)
                prep_(std::span<io_uring_sqe*, N>(sqes, N));
            else
                prep_(sqes[0]);
        } catch (...) {
            // The SQEs are taken from the ring already: make them harmless before unwinding.
            for (io_uring_sqe* s : sqes) {
                io_uring_prep_nop(s);
                io_uring_sqe_set_data64(s, 0);  // ring::tag_ignore
            }
            throw;
        }
        for (std::size_t i = 0; i < N; ++i) {
            io_uring_sqe_set_data(sqes[i], &slots_[i]);
            slots_[i].opcode = sqes[i]->opcode;
            slots_[i].fd = sqes[i]->fd;
            if (i + 1 < N && !(sqes[i]->flags & IOSQE_IO_HARDLINK))
                sqes[i]->flags |= IOSQE_IO_LINK;
        }
        io_begin(op_, h, slots_, N, deadline_ns_);
        // May run io_cancel at once (stop requested meanwhile): on this, the home worker, that
        // only prepares the cancel SQEs; the task is not resumed before we return.
        if (stop_.stop_possible())
            cb_.emplace(stop_, io_stop_fn{&op_});
        return true;
    }

    result_type await_resume() noexcept {
        if constexpr (Mode == uring_result::res) {
            return early_ ? early_ : slots_[0].res;
        } else if constexpr (Mode == uring_result::with_flags) {
            return early_ ? uring::completion{early_, 0}
                          : uring::completion{slots_[0].res, slots_[0].flags};
        } else {
            std::array<uring::completion, N> out;
            for (std::size_t i = 0; i < N; ++i)
                out[i] = early_ ? uring::completion{early_, 0}
                                : uring::completion{slots_[i].res, slots_[i].flags};
            return out;
        }
    }

private:
    Prep prep_;
    std::stop_token stop_;
    std::int64_t deadline_ns_;
    int early_ = 0;  // the result when nothing was submitted
    io_op op_;
    io_cqe_slot slots_[N];
    std::optional<std::stop_callback<io_stop_fn>> cb_;
};

template <class Fn>
class on_every_ring_awaiter {
public:
    explicit on_every_ring_awaiter(Fn fn)
        : fn_(std::move(fn)) {}
    on_every_ring_awaiter(const on_every_ring_awaiter&) = delete;
    on_every_ring_awaiter& operator=(const on_every_ring_awaiter&) = delete;

    bool await_ready() {
        b_.fn = &thunk;
        b_.ctx = this;
        b_.calls.resize(ring_call_workers());
        return false;
    }
    void await_suspend(std::coroutine_handle<> h) noexcept { ring_call_start(b_, h); }
    std::vector<int> await_resume() {
        std::vector<int> out;
        out.reserve(b_.calls.size());
        for (ring_call& c : b_.calls) {
            if (c.error)
                std::rethrow_exception(c.error);
            out.push_back(c.res);
        }
        return out;
    }

private:
    static int thunk(void* ctx, io_uring* ring, unsigned index) {
        Fn& fn = static_cast<on_every_ring_awaiter*>(ctx)->fn_;
        if constexpr (std::is_invocable_v<Fn&, io_uring*, unsigned>)
            return static_cast<int>(fn(ring, index));
        else
            return static_cast<int>(fn(ring));
    }

    Fn fn_;
    ring_call_batch b_;
};

class multishot_next_awaiter {
public:
    explicit multishot_next_awaiter(io_stream& s) noexcept
        : s_(s) {}
    bool await_ready() noexcept { return taken_ = s_.take(got_); }
    bool await_suspend(std::coroutine_handle<> h) noexcept { return s_.suspend(h); }
    std::optional<uring::completion> await_resume() noexcept {
        // Resumed only with a completion or the end queued (MS-2), so this take succeeds.
        if (!taken_)
            s_.take(got_);
        if (!got_) {
            s_.close_end();  // ended: the stop callback is no longer needed
            return std::nullopt;
        }
        return uring::completion{got_->res, got_->flags};
    }

private:
    io_stream& s_;
    std::optional<io_stream_entry> got_;
    bool taken_ = false;
};

class multishot_close_awaiter {
public:
    explicit multishot_close_awaiter(io_stream& s) noexcept
        : s_(s) {}
    bool await_ready() noexcept { return s_.close_begin(); }
    bool await_suspend(std::coroutine_handle<> h) noexcept { return s_.suspend_until_end(h); }
    void await_resume() noexcept { s_.close_end(); }

private:
    io_stream& s_;
};

}  // namespace detail

}  // namespace gorun

namespace gorun::uring {

inline detail::multishot_next_awaiter multishot::next() noexcept {
    return detail::multishot_next_awaiter(core_);
}

inline detail::multishot_close_awaiter multishot::close() noexcept {
    return detail::multishot_close_awaiter(core_);
}

}  // namespace gorun::uring
