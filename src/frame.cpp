// See frame.hpp.
#include "frame.hpp"

#include "runtime_state.hpp"

#include <gorun/spawn.hpp>

#include <cstdlib>
#include <new>

namespace gorun::detail {

namespace {

// Returns a block to the calling worker's cache, or to malloc.
void release_block(frame_header* h, worker* w) noexcept {
    if (h->cls && w && w->cache.give(h, h->cls))
        return;
    std::free(h);
}

void unlink_worker(worker& owner, frame_header* h) noexcept {
    live_list::unlink(h);
    --owner.live.count;
    owner.stat_live.store(owner.live.count, std::memory_order_relaxed);
}

}  // namespace

frame_cache::~frame_cache() {
    for (block* b : free_) {
        while (b) {
            block* n = b->next;
            std::free(b);
            b = n;
        }
    }
}

void* frame_alloc(std::size_t n) {
    std::size_t total = n + sizeof(frame_header);
    std::uint32_t cls = total <= frame_cache::max_class * frame_cache::granule
        ? static_cast<std::uint32_t>((total + frame_cache::granule - 1) / frame_cache::granule)
        : 0;
    void* mem = nullptr;
    if (cls) {
        if (worker* w = this_worker())
            mem = w->cache.take(cls);
    }
    if (!mem) {
        mem = std::malloc(cls ? cls * frame_cache::granule : total);
        if (!mem)
            throw std::bad_alloc();
    }
    auto* h = static_cast<frame_header*>(mem);
    h->cls = cls;
    h->state = unlinked;
    h->owner = nullptr;
    h->task = nullptr;
    return h + 1;
}

void frame_free(void* p, std::size_t) noexcept {
    frame_header* h = header_of(p);
    worker* self = this_worker();
    if (h->state == linked_worker) {
        auto* owner = static_cast<worker*>(h->owner);
        if (owner != self && !owner->rt->dead.load(std::memory_order_relaxed)) {
            // F-1: only the owner may unlink; hand the header back to it (it outlives the
            // promise that has just been destroyed). Release pairs with the owner's acquire
            // exchange in drain_remote_frees.
            frame_header* head = owner->remote_free.load(std::memory_order_relaxed);
            do {
                h->remote_next = head;
            } while (!owner->remote_free.compare_exchange_weak(
                head, h, std::memory_order_release, std::memory_order_relaxed));
            return;
        }
        unlink_worker(*owner, h);
    } else if (h->state == linked_foreign) {
        auto* rt = static_cast<runtime_state*>(h->owner);
        std::lock_guard lock(rt->foreign_mu);
        live_list::unlink(h);
        --rt->foreign_live.count;
    }
    release_block(h, self);
}

void link_root(runtime_state* rt, worker* w, void* frame, task_base* t) noexcept {
    frame_header* h = header_of(frame);
    h->task = t;
    if (w) {
        h->owner = w;
        h->state = linked_worker;
        w->live.link(h);
        w->stat_live.store(w->live.count, std::memory_order_relaxed);
        return;
    }
    std::lock_guard lock(rt->foreign_mu);
    h->owner = rt;
    h->state = linked_foreign;
    rt->foreign_live.link(h);
}

void drain_remote_frees(worker& w) noexcept {
    if (!w.remote_free.load(std::memory_order_relaxed))
        return;
    frame_header* h = w.remote_free.exchange(nullptr, std::memory_order_acquire);
    while (h) {
        frame_header* next = h->remote_next;
        unlink_worker(w, h);
        release_block(h, this_worker());
        h = next;
    }
}

namespace {

// Destroys one linked root. A join_handle still pointing at it is emptied first so that its
// destructor will not touch the freed frame. Destroying the frame unlinks it (frame_free sees
// the runtime dead and unlinks directly), and may destroy other roots (join handles in it).
void destroy_root(frame_header* h) noexcept {
    task_base* t = h->task;
    if (join_handle_base* jh = t->handle_) {
        jh->promise_ = nullptr;
        jh->frame_ = nullptr;
        t->handle_ = nullptr;
    }
    std::coroutine_handle<>::from_address(h + 1).destroy();
}

}  // namespace

void destroy_all_roots(runtime_state& rt) noexcept {
    for (bool any = true; any;) {
        any = false;
        for (auto& w : rt.workers) {
            while (!w->live.empty()) {
                destroy_root(w->live.head.next);
                any = true;
            }
        }
        for (;;) {
            frame_header* h;
            {
                std::lock_guard lock(rt.foreign_mu);
                if (rt.foreign_live.empty())
                    break;
                h = rt.foreign_live.head.next;
            }
            destroy_root(h);
            any = true;
        }
    }
}

}  // namespace gorun::detail
