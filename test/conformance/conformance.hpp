// Helpers shared by the conformance tests (chan_test.cpp, select_test.cpp): sizes scaled for
// sanitizers, white-box waits for parked waiters (instead of Go's "sleep so it blocks"), and a
// payload that counts its lifetime.
#pragma once

#include <gorun/channel.hpp>

#include "harness.hpp"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <utility>

namespace conformance {

// Sizes cut under sanitizers, where every channel operation costs 10-50x more.
inline int scaled(int n) {
    return gorun::test::sanitized() ? std::max(1, n / 10) : n;
}

// White-box: the waiters parked on `ch` that can still be claimed, as (receivers, senders),
// read under the channel's lock. A select waiter whose select has already completed is not
// counted. This replaces Go's `time.Sleep(time.Millisecond) // let it block`.
template <class T>
std::pair<std::size_t, std::size_t> parked_waiters(const gorun::channel<T>& ch) {
    auto* s = ch.state();
    s->lock.lock();
    std::pair<std::size_t, std::size_t> counts{
        s->recvq.claimable_count(), s->sendq.claimable_count()};
    s->unlock();
    return counts;
}

using waiter_counts = std::pair<std::size_t, std::size_t>;
constexpr waiter_counts none_parked{0, 0};

// Yields until exactly `receivers` and `senders` waiters are parked on `ch` (the watchdog
// fails the test if that never happens).
template <class T>
gorun::task<>
until_parked(const gorun::channel<T>& ch, std::size_t receivers, std::size_t senders) {
    for (;;) {
        if (parked_waiters(ch) == waiter_counts{receivers, senders})
            co_return;
        co_await gorun::yield();
    }
}

// A payload that counts constructions (moves included) and destructions, and notices an object
// destroyed twice or used after its destruction. `id` is -1 in a moved-from object.
struct tracked {
    static constexpr std::uint32_t alive_magic = 0x600dcafe;
    static constexpr std::uint32_t dead_magic = 0xdeadbeef;
    static inline std::atomic<long> constructed{0};
    static inline std::atomic<long> destroyed{0};
    static inline std::atomic<long> misuses{0};  // double destruction, use after destruction
    static inline std::atomic<long> holding{0};  // live objects that hold a value (id >= 0)

    int id = -1;
    std::uint32_t magic = alive_magic;

    explicit tracked(int i) noexcept
        : id(i) {
        constructed.fetch_add(1, std::memory_order_relaxed);
        holding.fetch_add(1, std::memory_order_relaxed);
    }
    tracked(tracked&& o) noexcept
        : id(std::exchange(o.id, -1)) {
        if (o.magic != alive_magic)
            misuses.fetch_add(1, std::memory_order_relaxed);
        constructed.fetch_add(1, std::memory_order_relaxed);
    }
    tracked& operator=(tracked&& o) noexcept {
        if (o.magic != alive_magic || magic != alive_magic)
            misuses.fetch_add(1, std::memory_order_relaxed);
        if (id >= 0)
            holding.fetch_sub(1, std::memory_order_relaxed);
        id = std::exchange(o.id, -1);
        return *this;
    }
    tracked(const tracked&) = delete;
    tracked& operator=(const tracked&) = delete;
    ~tracked() {
        if (magic != alive_magic)
            misuses.fetch_add(1, std::memory_order_relaxed);
        magic = dead_magic;
        if (id >= 0)
            holding.fetch_sub(1, std::memory_order_relaxed);
        destroyed.fetch_add(1, std::memory_order_relaxed);
    }

    // Objects alive, moved-from shells included (a co_await's temporaries live while it waits).
    static long live() { return constructed.load() - destroyed.load(); }
    // Objects alive that hold a value.
    static long values() { return holding.load(); }
    // Starts a count; only valid while no tracked object exists.
    static void reset() {
        REQUIRE(live() == 0);
        constructed = 0;
        destroyed = 0;
        misuses = 0;
        holding = 0;
    }
};

}  // namespace conformance
