// Coroutine frame memory: the header in front of every gorun frame, the per-worker size-class
// cache, and the live-root lists that let shutdown find every suspended task.
//
// Design
// frame_alloc(n) hands out [frame_header][n bytes of frame]. Frames of up to 4 KiB come from
// the current worker's cache: one free list per 64-byte size class, refilled from and spilled
// to malloc, capped per class so a burst of a million frames does not stay cached. A frame
// freed on another worker, or on no worker, simply goes to that thread's cache or to free():
// blocks are plain malloc blocks, so no owner bookkeeping is needed for memory itself.
//
// Roots (tasks started by go/spawn/post) are also linked into the live list of the worker that
// started them (or the runtime's foreign list when started from another thread). The list is
// owner-only: no atomics on the spawn/finish fast path. A root freed on another worker cannot
// unlink itself there, so its header — which outlives the promise, unlike any field inside the
// frame — is pushed onto the owner's `remote_free` stack (one CAS) and the owner unlinks and
// frees it on its next scheduling pass.
//
// Invariants
// - SCHED-1: every root frame is in exactly one live list from start_root until its memory
//   is freed; at shutdown (workers joined) each list is emptied by destroying its frames, so
//   every unfinished task is destroyed exactly once.
// - F-1: a header's list fields are written only by the list owner's thread, or by anyone
//   once the runtime is dead (single-threaded shutdown), or under foreign_mu for the foreign
//   list.
#pragma once

#include <gorun/detail/task_base.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace gorun::detail {

struct worker;
struct runtime_state;

struct frame_header {
    frame_header* prev;
    frame_header* next;
    void* owner;               // worker* (linked_worker) or runtime_state* (linked_foreign)
    frame_header* remote_next; // link in the owner's remote_free stack
    task_base* task;           // the root's task_base, for shutdown (valid while linked)
    std::uint32_t cls;         // size class (1..max_class), 0 = not cacheable
    std::uint32_t state;       // one of the link states below
};
static_assert(sizeof(frame_header) % 16 == 0, "frames must stay 16-byte aligned");

inline constexpr std::uint32_t unlinked = 0;
inline constexpr std::uint32_t linked_worker = 1;
inline constexpr std::uint32_t linked_foreign = 2;

inline frame_header* header_of(void* frame) noexcept {
    return static_cast<frame_header*>(frame) - 1;
}

// An intrusive circular list with a sentinel.
struct live_list {
    frame_header head{&head, &head, nullptr, nullptr, nullptr, 0, 0};
    std::size_t count = 0;
    bool empty() const noexcept { return head.next == &head; }
    void link(frame_header* h) noexcept {
        h->next = head.next;
        h->prev = &head;
        head.next->prev = h;
        head.next = h;
        ++count;
    }
    static void unlink(frame_header* h) noexcept {
        h->prev->next = h->next;
        h->next->prev = h->prev;
    }
};

class frame_cache {
public:
    static constexpr std::size_t granule = 64;
    static constexpr std::uint32_t max_class = 64;  // frames up to 4 KiB (header included)
    static constexpr std::size_t cap_bytes = 1 << 20;  // per class and worker

    frame_cache() = default;
    frame_cache(const frame_cache&) = delete;
    ~frame_cache();

    void* take(std::uint32_t cls) noexcept {
        block* b = free_[cls];
        if (!b)
            return nullptr;
        free_[cls] = b->next;
        --count_[cls];
        return b;
    }
    bool give(void* p, std::uint32_t cls) noexcept {
        // count * size >= cap, without a division on the free path.
        if (static_cast<std::size_t>(count_[cls]) * cls * granule >= cap_bytes)
            return false;
        auto* b = static_cast<block*>(p);
        b->next = free_[cls];
        free_[cls] = b;
        ++count_[cls];
        return true;
    }

private:
    struct block {
        block* next;
    };
    block* free_[max_class + 1] = {};
    std::uint32_t count_[max_class + 1] = {};
};

// Links a new root into worker w's list (w must be the calling thread's worker), or into
// rt's foreign list when w is null.
void link_root(runtime_state* rt, worker* w, void* frame, task_base* t) noexcept;

// Owner side of remote frees: unlink and free everything other threads handed back.
void drain_remote_frees(worker& w) noexcept;

// Shutdown: destroys every root still linked anywhere in rt (SCHED-1).
void destroy_all_roots(runtime_state& rt) noexcept;

}  // namespace gorun::detail
