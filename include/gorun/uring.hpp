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
// Cancellation (IO-1): every call takes an optional io_control (a std::stop_token and/or a
// deadline). Cancelling submits IORING_OP_ASYNC_CANCEL for the op; the task resumes only once
// the op's own completion has arrived, so buffers the SQE points at — typically in the awaiting
// frame — may be used until then and are never written after the task resumes.
#pragma once

#include <gorun/config.hpp>

#include <gorun/io_control.hpp>

#include <gorun/detail/io_op.hpp>

#include <liburing.h>

#include <array>
#include <cerrno>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <stop_token>
#include <type_traits>
#include <utility>

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

}  // namespace detail

}  // namespace gorun
