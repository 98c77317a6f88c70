// The length one read/write SQE is given (shared by sockets and files).
#pragma once

#include <cstddef>

namespace gorun::detail {

// An SQE's length is 32 bits (io_uring_prep_read/recv/send cast it), so a span of 4 GiB or more
// would reach the kernel cut modulo 2^32 — exactly 4 GiB as 0 bytes: a false end of stream or
// of file for a read, a write_all spinning on empty writes. Linux moves at most MAX_RW_COUNT
// (INT_MAX rounded down to a page) per call anyway, and that keeps the result an int; callers
// that promise "all" loop over the short transfer.
inline constexpr std::size_t max_op_len = 0x7ffff000;
inline unsigned op_len(std::size_t n) noexcept {
    return static_cast<unsigned>(n < max_op_len ? n : max_op_len);
}

}  // namespace gorun::detail
