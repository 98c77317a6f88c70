// Heap-owned timers for select cases (chan_core.hpp).
//
// States, and who moves between them:
//   armed --(owner's heap pops it: exchange)--> firing --(after touching the waiter)--> fired
//   armed --(the select withdraws it: CAS)----> cancelled   (a tombstone the owner frees later)
//   armed/cancelled --(shutdown clears the heap)--> dropped / freed
// The select frees the timer once it is fired or dropped; the owner frees it once it is
// cancelled. `firing` is the short window in which the owner touches the select's waiter: a
// select that wants to go away waits for it to pass, so the waiter (in its frame) is never
// touched after the frame moves on.
#include <gorun/detail/chan_core.hpp>

#include "runtime_state.hpp"

#include <new>

namespace gorun::detail {

namespace {

enum : int { st_armed, st_firing, st_fired, st_cancelled, st_dropped };

}  // namespace

struct select_timer : timer_node {
    std::atomic<int> state{st_armed};
    chan_waiter* waiter = nullptr;
    worker* home = nullptr;
};

namespace {

void destroy(select_timer* t) noexcept {
    t->~select_timer();
    frame_free(t, sizeof(select_timer));
}

void fire(timer_node* n) noexcept {
    auto* t = static_cast<select_timer*>(n);
    int s = t->state.exchange(st_firing, std::memory_order_acq_rel);
    if (s == st_cancelled) {
        t->home->timer_tombstones.fetch_sub(1, std::memory_order_relaxed);
        destroy(t);
        return;
    }
    chan_waiter* w = t->waiter;
    bool won = w->claim();
    task_base* task = w->waking_task();
    if (won)
        w->result = wait_result::done;
    // Release: the select may free us (and move on) as soon as it sees `fired`.
    t->state.store(st_fired, std::memory_order_release);
    if (won)
        ready(task);
}

bool is_cancelled(const timer_node* n) noexcept {
    return static_cast<const select_timer*>(n)->state.load(std::memory_order_acquire)
        == st_cancelled;
}

// The heap drops the node without firing it: a purge of tombstones, or shutdown.
void dispose(timer_node* n) noexcept {
    auto* t = static_cast<select_timer*>(n);
    int s = t->state.exchange(st_dropped, std::memory_order_acq_rel);
    if (s == st_cancelled)
        destroy(t);  // abandoned by its select: ours to free
    // armed: the select (being destroyed at shutdown) frees it in release_select_timer
}

}  // namespace

select_timer* arm_select_timer(std::int64_t deadline_ns, chan_waiter* w) noexcept {
    worker* home = this_worker();
    if (!home)
        fatal("a select with a timer case ran outside a gorun worker");
    auto* t = ::new (frame_alloc(sizeof(select_timer))) select_timer;
    t->deadline_ns = deadline_ns;
    t->fire = &fire;
    t->dispose = &dispose;
    t->is_cancelled = &is_cancelled;
    t->waiter = w;
    t->home = home;
    home->timers.add(t);
    home->stat_timers.store(home->timers.size(), std::memory_order_relaxed);
    return t;
}

void release_select_timer(select_timer* t) noexcept {
    // Read before the CAS: once the timer is a tombstone its owner may free it at any time.
    worker* home = t->home;
    int s = t->state.load(std::memory_order_acquire);
    for (;;) {
        if (s == st_armed) {
            if (t->state.compare_exchange_weak(
                    s, st_cancelled, std::memory_order_acq_rel, std::memory_order_acquire)) {
                home->timer_tombstones.fetch_add(1, std::memory_order_relaxed);
                return;  // the owner frees the tombstone
            }
            continue;
        }
        if (s == st_firing) {
            // The owner is touching our waiter right now; a few instructions.
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#endif
            s = t->state.load(std::memory_order_acquire);
            continue;
        }
        // fired or dropped: nobody else refers to it any more.
        destroy(t);
        return;
    }
}

}  // namespace gorun::detail
