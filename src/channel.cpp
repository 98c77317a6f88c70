// Out-of-line pieces of channels (channel.hpp).
#include <gorun/channel.hpp>

#include "runtime_state.hpp"

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <sched.h>

namespace gorun::detail {

void spin_lock_yield() noexcept {
    ::sched_yield();
}

void park_forever(std::coroutine_handle<> h) noexcept {
    // Parked and referenced by nothing: only shutdown (which destroys every root) ends it,
    // as a goroutine blocked on a nil channel is never woken.
    (void)park_current(h);
}

void block_thread_forever() {
    std::mutex mu;
    std::condition_variable cv;
    std::unique_lock lock(mu);
    for (;;)
        cv.wait(lock);
}

void check_not_on_worker(const char* what) noexcept {
    if (tls_worker) {
        static thread_local char msg[160];
        std::snprintf(
            msg,
            sizeof msg,
            "%s called on a gorun worker (it would block the worker); co_await the "
            "channel operation instead",
            what);
        fatal(msg);
    }
}

}  // namespace gorun::detail
