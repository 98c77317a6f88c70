// A worker's local run queue: a bounded Chase–Lev work-stealing deque of task_base*.
//
// Design
// The owner pushes and pops at the bottom (LIFO: a task it just spawned runs next, which
// keeps fork-join work depth-first and its frames hot and few); thieves take from the top
// (FIFO: the oldest task, usually the root of the largest remaining subtree). The owner also
// takes from the top every so often (worker.cpp) so an old task cannot starve behind a stream
// of new ones. Thieves steal half a victim's queue by repeating single-item steals — each one
// a CAS on `top_` — because a multi-item CAS on `top_` can race with owner pops below it.
//
// Invariants
// - SCHED-Q1: only the owner writes `bottom_` and the slots; thieves write only `top_` (CAS).
// - SCHED-Q2: a slot is overwritten only after `top_` has moved past it, so a thief that read
//   a slot and then won its CAS read a value the owner was not overwriting. (The owner's
//   full-check uses a stale copy of `top_`, a lower bound, so it errs towards "full" and then
//   re-reads: it never overwrites an unclaimed slot.)
//
// Memory ordering (Lê, Pop, Cohen, Zappa Nardelli, "Correct and Efficient Work-Stealing for
// Weak Memory Models", PPoPP 2013, with the fences expressed as seq_cst operations so that
// ThreadSanitizer, which does not model standalone fences, understands them):
// - push: slot store (relaxed) then bottom_ store (release) — pairs with the thief's
//   seq_cst load of bottom_, so the task's fields written before the push are visible.
// - pop: bottom_ store (seq_cst) then top_ load (seq_cst) — the StoreLoad that keeps the
//   owner and a thief from both taking the last item; the CAS on top_ settles that item.
// - steal: top_ load, bottom_ load, slot load, CAS top_ (all seq_cst but the slot).
#pragma once

#include <gorun/detail/task_base.hpp>

#include <array>
#include <atomic>
#include <cstdint>

namespace gorun::detail {

class run_queue {
public:
    static constexpr std::int64_t capacity = 1024;

    // Owner only. False when full (the caller moves half to the global queue and retries).
    bool push(task_base* t) noexcept {
        std::int64_t b = bottom_.load(std::memory_order_relaxed);
        // top_ only grows, so a stale copy can only overstate the length: re-read the shared
        // line only when the stale copy says "full". Reading top_ on every push would pull
        // the line away from a thief that is stealing at that moment, and back.
        if (b - top_cache_ >= capacity) {
            top_cache_ = top_.load(std::memory_order_acquire);
            if (b - top_cache_ >= capacity)
                return false;
        }
        slots_[b & mask].store(t, std::memory_order_relaxed);
        bottom_.store(b + 1, std::memory_order_release);
        return true;
    }

    // Owner only: the most recently pushed task, or nullptr.
    task_base* pop() noexcept {
        std::int64_t b = bottom_.load(std::memory_order_relaxed) - 1;
        bottom_.store(b, std::memory_order_seq_cst);
        std::int64_t t = top_.load(std::memory_order_seq_cst);
        if (t > b) {
            bottom_.store(b + 1, std::memory_order_relaxed);
            return nullptr;
        }
        task_base* x = slots_[b & mask].load(std::memory_order_relaxed);
        if (t == b) {  // the last item: race thieves for it
            if (!top_.compare_exchange_strong(
                    t, t + 1, std::memory_order_seq_cst, std::memory_order_relaxed))
                x = nullptr;
            bottom_.store(b + 1, std::memory_order_relaxed);
        }
        return x;
    }

    // Any thread (the owner too, for fairness): the oldest task, or nullptr if the queue was
    // empty or another thief won the race.
    task_base* steal() noexcept {
        std::int64_t t = top_.load(std::memory_order_seq_cst);
        std::int64_t b = bottom_.load(std::memory_order_seq_cst);
        if (t >= b)
            return nullptr;
        task_base* x = slots_[t & mask].load(std::memory_order_relaxed);
        if (!top_.compare_exchange_strong(
                t, t + 1, std::memory_order_seq_cst, std::memory_order_relaxed))
            return nullptr;
        return x;
    }

    // Approximate length, for any thread (dumps, steal-half sizing, wake decisions).
    std::int64_t size() const noexcept {
        std::int64_t b = bottom_.load(std::memory_order_seq_cst);
        std::int64_t t = top_.load(std::memory_order_seq_cst);
        return b > t ? b - t : 0;
    }

private:
    static constexpr std::int64_t mask = capacity - 1;
    static_assert((capacity & mask) == 0, "capacity must be a power of two");

    alignas(64) std::atomic<std::int64_t> top_{0};
    alignas(64) std::atomic<std::int64_t> bottom_{0};
    std::int64_t top_cache_ = 0;  // owner's stale copy of top_ (a lower bound)
    alignas(64) std::array<std::atomic<task_base*>, capacity> slots_{};
};

}  // namespace gorun::detail
