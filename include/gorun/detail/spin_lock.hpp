// A small lock for channel state: critical sections are a few dozen instructions, so a
// test-and-test-and-set spin (with `pause`) beats a futex mutex, whose uncontended path is
// the same one RMW but whose contended path sleeps for tens of microseconds on this machine.
// After a bounded spin it yields the CPU, so a holder that was preempted can finish.
#pragma once

#include <atomic>

namespace gorun::detail {

void spin_lock_yield() noexcept;  // src/runtime.cpp: sched_yield, out of line

class spin_lock {
public:
    void lock() noexcept {
        for (;;) {
            if (!locked_.exchange(true, std::memory_order_acquire))
                return;
            for (int i = 0; locked_.load(std::memory_order_relaxed); ++i) {
                if (i < 128) {
#if defined(__x86_64__) || defined(__i386__)
                    __builtin_ia32_pause();
#endif
                } else {
                    spin_lock_yield();
                    i = 0;
                }
            }
        }
    }
    bool try_lock() noexcept {
        return !locked_.load(std::memory_order_relaxed)
            && !locked_.exchange(true, std::memory_order_acquire);
    }
    void unlock() noexcept {
        locked_.store(false, std::memory_order_release);
    }

private:
    std::atomic<bool> locked_{false};
};

}  // namespace gorun::detail
