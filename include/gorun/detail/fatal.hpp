// Broken invariants end the process with a message (Go's `throw`): they are bugs, not errors
// a caller could handle.
#pragma once

#include <gorun/config.hpp>

namespace gorun::detail {

// Prints "gorun: <msg>" to stderr and aborts.
[[noreturn]] void fatal(const char* msg) noexcept;

}  // namespace gorun::detail

// Checks an invariant in debug builds; the message should name the invariant's ID.
#ifdef NDEBUG
#define GORUN_ASSERT(cond, msg) static_cast<void>(0)
#else
#define GORUN_ASSERT(cond, msg)                                                                    \
    do {                                                                                           \
        if (!(cond)) [[unlikely]]                                                                  \
            ::gorun::detail::fatal(msg " (" #cond ")");                                            \
    } while (0)
#endif
