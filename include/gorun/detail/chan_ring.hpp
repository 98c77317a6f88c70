// The buffer of a buffered channel: a bounded MPMC ring whose operations do not take the
// channel's lock while nobody waits on the channel (the fast path), and the protocol that lets
// the locked slow path (waiters, close, select) share it.
//
// Design
// The ring is Vyukov's bounded MPMC queue in the form crossbeam-channel's array flavour uses:
// `head` and `tail` are positions {lap, index} packed in a word (index in the low bits, lap above
// `one_lap`), and every slot has a `stamp`: the position at which it may next be written
// (stamp == p: free for the sender of position p) or read (stamp == p + 1: holds the value sent at
// p). A sender reserves position p by a CAS of `tail` from p to next(p), then constructs the value
// and publishes it by storing stamp = p + 1 (release); a receiver reserves p by a CAS of `head`,
// moves the value out and frees the slot for the next lap, stamp = p + one_lap (release).
// Indices run to cap - 1 and then wrap into the next lap, so any capacity works without a
// division.
//
// The bit between index and lap (`slow`, never produced by position arithmetic) switches the
// channel between two modes:
//   fast (bit clear in both words): nobody waits and the channel is open. Any task may send or
//     receive with one CAS, without the lock.
//   slow (bit set in both words): only the holder of the channel's lock moves head and tail. A
//     fast-path CAS carries the bit in its expected value, so it fails once the bit is set and
//     the caller falls back to the lock.
//
// Invariants (the IDs also appear in channel.hpp, docs/design/channel.md and the tests)
// - CH-5: bit clear => recvq and sendq are empty and the channel is not closed. The lock holder
//   sets the bit (`freeze`) before it parks a waiter or closes, and clears it (`thaw`, in
//   chan_base::unlock) only when both queues are empty, the channel is open, and 0 < count < cap
//   (an empty or full ring would only send the next operation to the lock again).
// - CH-6: while frozen, count = tail - head is exact and changes only under the lock. A fast
//   operation that won its CAS before the bit was set may still be writing its slot (a
//   straggler); its position is already counted, so the lock holder never decides "empty" or
//   "full" wrongly, and it waits for the slot's stamp before touching the slot (a few
//   instructions, unless the straggler's thread was preempted; it then backs off as the spin lock
//   does).
// So every decision to park or to report closed is taken on a frozen ring, under the lock, as
// before the fast path existed: CH-1 (never both queues non-empty), the hand-off to a parked
// receiver only when count == 0 (FIFO) and the refill from a parked sender when a receiver makes
// room keep their old proofs. A fast operation linearises at its successful CAS: it happens
// before the freeze that would have excluded it, so close() (which freezes first) orders after
// every fast send that succeeded, and receivers drain those values before they see closed
// (CH-4).
//
// Memory ordering
// - stamp stores are release, stamp loads acquire: they carry the slot's value between the
//   sender and the receiver (and from stragglers to the lock holder that waits for them).
// - head/tail CASes are relaxed: they only reserve positions; data moves through the stamps. A
//   CAS and the lock holder's fetch_or of the bit are read-modify-writes of one atomic, so one
//   of them comes first in its modification order: the CAS fails, or the fetch_or's result
//   includes the reservation (CH-6).
// - thaw stores the cleared words with release after the lock holder's last slot write (whose
//   stamp is itself a release store, so fast operations after the thaw see the slots right).
// TSan sees no standalone fences here: every ordering is on an atomic access.
//
// Rejected alternatives
// - A "has waiters" word beside head and tail that fast operations re-check after publishing
//   (a Dekker pair with the parker): a StoreLoad fence on every operation, and a parked receiver
//   would have to be woken by whichever fast sender noticed it, outside the lock.
// - Waking waiters to retry (crossbeam's SyncWaker): a woken task can lose the race again, and
//   select's one-waiter-per-case, first-claim-wins protocol (SEL-1) would need a second design.
//
// References: D. Vyukov, "Bounded MPMC queue", 1024cores.net; crossbeam-channel
// src/flavors/array.rs (the lap/index stamps).
#pragma once

#include <atomic>
#include <cstdint>

namespace gorun::detail {

void spin_lock_yield() noexcept;  // src/channel.cpp: sched_yield, out of line

// The geometry of a ring of `cap` slots; copied into the head and the tail line so that a fast
// operation reads only the line it writes.
struct ring_geometry {
    void* slots = nullptr;        // cap slots of the element type
    std::uint64_t one_lap = 0;    // 2 * slow; the lap counts from here up
    std::uint64_t slow = 0;       // the mode bit: the smallest power of two > cap
    std::uint32_t cap = 0;        // 0: unbuffered (no ring)
    std::uint32_t lap_shift = 0;  // log2(one_lap)

    void init(std::uint32_t capacity, void* s) noexcept {
        cap = capacity;
        slots = s;
        std::uint64_t b = 1;
        while (b <= capacity)
            b <<= 1;
        slow = b;
        one_lap = b << 1;
        lap_shift = 0;
        while ((std::uint64_t{1} << lap_shift) < one_lap)
            ++lap_shift;
    }
    std::uint64_t index(std::uint64_t p) const noexcept { return p & (slow - 1); }
    // The position after p (p without the slow bit).
    std::uint64_t next(std::uint64_t p) const noexcept {
        return index(p) + 1 < cap ? p + 1 : (p & ~(one_lap - 1)) + one_lap;
    }
    // Values between two positions (without the slow bit), counting reserved slots.
    std::uint64_t distance(std::uint64_t from, std::uint64_t to) const noexcept {
        return ((to >> lap_shift) - (from >> lap_shift)) * cap + index(to) - index(from);
    }
};

// Waits for a straggler's stamp (CH-6): a fast operation between its CAS and its stamp store.
[[gnu::noinline]] inline void
wait_for_stamp_slow(const std::atomic<std::uint64_t>& stamp, std::uint64_t want) noexcept {
    for (int i = 0; stamp.load(std::memory_order_acquire) != want; ++i) {
        if (i < 128) {
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#endif
        } else {
            spin_lock_yield();  // the straggler's thread was preempted: let it run
            i = 0;
        }
    }
}
inline void wait_for_stamp(const std::atomic<std::uint64_t>& stamp, std::uint64_t want) noexcept {
    if (stamp.load(std::memory_order_acquire) != want) [[unlikely]]
        wait_for_stamp_slow(stamp, want);
}

}  // namespace gorun::detail
