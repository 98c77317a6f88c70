// gorun/io_control.hpp — how an I/O operation may be cut short: a stop token and a deadline.
//
//     std::stop_source stop;
//     auto n = co_await f.read_at(buf, 0, stop.get_token());               // cancellable
//     auto m = co_await f.read_at(buf, 0, gorun::clock::now() + 100ms);   // with a deadline
//
// Every gorun I/O call takes an io_control as its last argument; both parts are optional and
// it converts from either. A cancelled op reports ECANCELED, one whose deadline passed reports
// ETIMEDOUT (Go's "i/o timeout"); an op that completed before the cancel reached the kernel
// reports its real result. Either way the call returns only after the kernel has finished
// with the op's buffers (IO-1).
#pragma once

#include <gorun/time.hpp>

#include <cstdint>
#include <stop_token>
#include <utility>

namespace gorun {

/// Cancellation and deadline of one I/O operation.
struct io_control {
    /// Cancels the op when stop is requested.
    std::stop_token stop{};
    /// Cancels the op when it passes (steady_clock); max() means none.
    clock::time_point deadline = clock::time_point::max();

    io_control() = default;
    /// Cancellable through `st`.
    io_control(std::stop_token st) noexcept  // NOLINT: implicit on purpose
        : stop(std::move(st)) {}
    /// Cut short at `d` (and through `st`, if given).
    io_control(clock::time_point d, std::stop_token st = {}) noexcept  // NOLINT: implicit
        : stop(std::move(st))
        , deadline(d) {}

    /// The deadline as steady_clock nanoseconds (INT64_MAX for none).
    std::int64_t deadline_ns() const noexcept {
        return deadline == clock::time_point::max() ? INT64_MAX : detail::to_ns(deadline);
    }
};

}  // namespace gorun
