// Coroutine frame memory: the header in front of every gorun frame, the per-worker size-class
// cache, and the block lists that let shutdown find every unfinished task.
//
// Design
// frame_alloc(n) hands out [frame_header][n bytes of frame]. Frames of up to 4 KiB come from
// the current worker's cache: one free list per 16-byte size class, refilled from malloc and
// capped per class so a burst of a million frames does not stay cached.
//
// Shutdown must destroy every unfinished task exactly once (SCHED-1), so the runtime must be
// able to find every root frame. A lock-protected registry would cost a lock per spawn; a
// per-worker list costs a link and an unlink per task, touching two other frames' headers.
// Instead a *block* joins the list of the worker that first uses it as a root, and stays in
// it while it cycles through that worker's cache: freeing it only marks it `role_free` and
// pushes it on the free list, allocating it marks it `role_frame`, starting a root in it
// marks it `role_root`. In steady state a spawn/finish costs no list operation at all.
// Shutdown walks the lists and destroys the blocks whose role is `role_root`.
//
// A linked block must come home to free: a root freed on another worker pushes its header —
// which outlives the destroyed promise — onto the owner's `remote_free` stack (one CAS), and
// the owner caches it on its next pass. Unlinked blocks (nested frames, frames made off any
// worker) go to whichever worker frees them, or to free().
//
// Invariants
// - SCHED-1: a frame whose role is role_root is in some list (a worker's, or the runtime's
//   foreign list) until it is freed; at shutdown every such frame is destroyed once.
// - F-1: a block's list links are written only by the list owner's thread, under foreign_mu
//   for the foreign list, or by the single shutdown thread once the runtime is dead.
// - F-2: a block linked into worker w's list is only ever in w's cache (never another's).
#pragma once

#include <gorun/detail/task_base.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace gorun::detail {

struct worker;
struct runtime_state;

enum : std::uint8_t { list_none, list_worker, list_foreign };
enum : std::uint8_t { role_free, role_frame, role_root };

struct frame_header {
    frame_header* prev;
    frame_header* next;
    void* owner;                // worker* (list_worker) or runtime_state* (list_foreign)
    frame_header* remote_next;  // link in the owner's remote_free stack / shutdown graveyard
    task_base* task;            // the root's task_base while role == role_root
    std::uint32_t cls;          // size class (1..max_class), 0 = not cacheable
    std::uint8_t list;          // which list holds the block
    std::uint8_t role;          // what the block is used for now
};
static_assert(sizeof(frame_header) % 16 == 0, "frames must stay 16-byte aligned");

inline frame_header* header_of(void* frame) noexcept {
    return static_cast<frame_header*>(frame) - 1;
}

// An intrusive circular list with a sentinel.
struct block_list {
    frame_header head{&head, &head, nullptr, nullptr, nullptr, 0, list_none, role_free};
    bool empty() const noexcept { return head.next == &head; }
    void link(frame_header* h) noexcept {
        h->next = head.next;
        h->prev = &head;
        head.next->prev = h;
        head.next = h;
    }
    static void unlink(frame_header* h) noexcept {
        h->prev->next = h->next;
        h->next->prev = h->prev;
    }
};

class frame_cache {
public:
    // Class c holds blocks of c * granule - malloc_overhead bytes (header included), up to
    // 4 KiB. glibc's malloc puts an 8-byte size word in front of each chunk and rounds chunks
    // to 16 bytes, so a request of 16c - 8 bytes fills a 16c-byte chunk exactly: asking for
    // 16c would take 16c + 16. A parked task's frame is mostly this block, so the 16 bytes
    // matter (parked_task_bytes). Other allocators simply round the request up.
    static constexpr std::size_t granule = 16;
    static constexpr std::size_t malloc_overhead = 8;
    static constexpr std::uint32_t max_class = 256;
    // The class for a block of `total` bytes, or 0 when it is too large to cache.
    static constexpr std::uint32_t class_of(std::size_t total) noexcept {
        std::size_t c = (total + malloc_overhead + granule - 1) / granule;
        return c <= max_class ? static_cast<std::uint32_t>(c) : 0;
    }
    static constexpr std::size_t block_bytes(std::uint32_t cls) noexcept {
        return cls * granule - malloc_overhead;
    }
    static constexpr std::size_t cap_bytes = 1 << 20;  // per class and worker

    frame_cache() = default;
    frame_cache(const frame_cache&) = delete;
    ~frame_cache();

    frame_header* take(std::uint32_t cls) noexcept {
        frame_header* b = free_[cls];
        if (!b)
            return nullptr;
        free_[cls] = b->remote_next;
        --count_[cls];
        return b;
    }
    // False when the class is at its cap (the caller frees the block).
    bool give(frame_header* b) noexcept {
        std::uint32_t cls = b->cls;
        // count * size >= cap, without a division on the free path.
        if (cls == 0 || static_cast<std::size_t>(count_[cls]) * cls * granule >= cap_bytes)
            return false;
        b->remote_next = free_[cls];  // the free-list link (the block is idle)
        free_[cls] = b;
        ++count_[cls];
        return true;
    }

private:
    frame_header* free_[max_class + 1] = {};
    std::uint32_t count_[max_class + 1] = {};
};

// Links a block that is in no list yet (the slow part of link_root).
void link_block(runtime_state* rt, worker* w, frame_header* h) noexcept;

// Marks the frame as the root `t` and makes sure a list holds it: worker w's (w must be the
// calling thread's worker), or rt's foreign list when w is null. In steady state the block is
// a recycled one, already in w's list: two stores.
inline void link_root(runtime_state* rt, worker* w, void* frame, task_base* t) noexcept {
    frame_header* h = header_of(frame);
    h->task = t;
    h->role = role_root;
    if (h->list == list_none) [[unlikely]]
        link_block(rt, w, h);
}

// Owner side of remote frees: caches (or frees) everything other threads handed back.
void drain_remote_frees(worker& w) noexcept;

// Shutdown (runtime dead, workers joined): destroys every root still in a list, once each
// (SCHED-1), then frees the blocks that held them.
void destroy_all_roots(runtime_state& rt) noexcept;

}  // namespace gorun::detail
