// See frame.hpp.
#include "frame.hpp"

#include <gorun/spawn.hpp>

#include "runtime_state.hpp"

#include <cstdlib>
#include <new>
#include <vector>

namespace gorun::detail {

namespace {

// A block that nobody will use again: into the calling worker's cache if it may go there
// (F-2: a linked block only into its owner's), else unlinked and freed.
void retire(frame_header* h, worker* w) noexcept {
    h->role = role_free;
    if (h->list == list_worker) {
        if (h->owner == w && w->cache.give(h))
            return;
        block_list::unlink(h);
        h->list = list_none;
    } else if (w && w->cache.give(h)) {
        return;
    }
    std::free(h);
}

// During shutdown frees are deferred: destroy_all_roots still holds pointers to blocks it
// has yet to look at, so no block may be reused or released until it is done.
// Set on the thread running destroy_all_roots: every frame freed meanwhile — linked or not —
// is buried, so a destructor in one task that touches an object in another task's (already
// destroyed) frame still finds that memory mapped and unchanged rather than reused.
thread_local runtime_state* burying = nullptr;

void bury(runtime_state& rt, frame_header* h) noexcept {
    h->role = role_free;
    h->remote_next = rt.graveyard;
    rt.graveyard = h;
}

}  // namespace

frame_cache::~frame_cache() {
    for (frame_header* b : free_) {
        while (b) {
            frame_header* n = b->remote_next;
            std::free(b);
            b = n;
        }
    }
}

void* frame_alloc(std::size_t n) {
    std::size_t total = n + sizeof(frame_header);
    std::uint32_t cls = frame_cache::class_of(total);
    frame_header* h = nullptr;
    worker* w = tls_worker;
    if (cls && w)
        h = w->cache.take(cls);
    if (!h) {
        if (w)
            w->stat_frame_mallocs.inc();
        h = static_cast<frame_header*>(std::malloc(cls ? frame_cache::block_bytes(cls) : total));
        if (!h)
            throw std::bad_alloc();
        h->cls = cls;
        h->list = list_none;
        h->owner = nullptr;
    }
    h->role = role_frame;
    return h + 1;
}

void frame_free(void* p, std::size_t) noexcept {
    frame_header* h = header_of(p);
    if (burying) [[unlikely]] {
        bury(*burying, h);
        return;
    }
    worker* self = tls_worker;
    if (h->list == list_worker) {
        auto* owner = static_cast<worker*>(h->owner);
        if (owner == self) [[likely]] {
            h->role = role_free;
            if (self->cache.give(h)) [[likely]]
                return;
            retire(h, self);
            return;
        }
        if (owner->rt->dead.load(std::memory_order_relaxed)) {
            bury(*owner->rt, h);
            return;
        }
        // F-1/F-2: the block must go home. Release pairs with the owner's acquire exchange in
        // drain_remote_frees, so our last writes to the frame happen before its reuse.
        frame_header* head = owner->remote_free.load(std::memory_order_relaxed);
        do {
            h->remote_next = head;
        } while (!owner->remote_free.compare_exchange_weak(
            head, h, std::memory_order_release, std::memory_order_relaxed));
        return;
    }
    if (h->list == list_foreign) {
        auto* rt = static_cast<runtime_state*>(h->owner);
        if (rt->dead.load(std::memory_order_relaxed)) {
            bury(*rt, h);
            return;
        }
        std::lock_guard lock(rt->foreign_mu);
        block_list::unlink(h);
        h->list = list_none;
    }
    retire(h, self);
}

void link_block(runtime_state* rt, worker* w, frame_header* h) noexcept {
    if (w) {
        h->owner = w;
        h->list = list_worker;
        w->blocks.link(h);
        return;
    }
    std::lock_guard lock(rt->foreign_mu);
    h->owner = rt;
    h->list = list_foreign;
    rt->foreign_blocks.link(h);
}

void drain_remote_frees(worker& w) noexcept {
    if (!w.remote_free.load(std::memory_order_relaxed))
        return;
    frame_header* h = w.remote_free.exchange(nullptr, std::memory_order_acquire);
    while (h) {
        frame_header* next = h->remote_next;
        retire(h, &w);
        h = next;
    }
}

namespace {

// Destroys one root. A join_handle still pointing at it is emptied first so that its
// destructor will not touch the freed frame.
void destroy_root(frame_header* h) noexcept {
    task_base* t = h->task;
    if (join_handle_base* jh = t->handle_) {
        jh->promise_ = nullptr;
        jh->frame_ = nullptr;
        t->handle_ = nullptr;
    }
    std::coroutine_handle<>::from_address(h + 1).destroy();
}

void collect_roots(block_list& l, std::vector<frame_header*>& out) {
    for (frame_header* h = l.head.next; h != &l.head; h = h->next)
        if (h->role == role_root)
            out.push_back(h);
}

}  // namespace

void destroy_all_roots(runtime_state& rt) noexcept {
    // Collect first, then destroy: destroying a root runs destructors that may destroy other
    // roots (join handles in its frame) and nested frames. Nothing is freed meanwhile (bury),
    // so every collected pointer stays valid and its role says whether it is still a root.
    std::vector<frame_header*> roots;
    try {
        for (auto& w : rt.workers)
            collect_roots(w->blocks, roots);
        collect_roots(rt.foreign_blocks, roots);
    } catch (const std::bad_alloc&) {
        fatal("out of memory while shutting down");
    }
    burying = &rt;
    for (frame_header* h : roots)
        if (h->role == role_root)
            destroy_root(h);
    burying = nullptr;
    while (frame_header* h = rt.graveyard) {
        rt.graveyard = h->remote_next;
        if (h->list == list_foreign) {
            std::lock_guard lock(rt.foreign_mu);
            block_list::unlink(h);
        } else if (h->list != list_none) {
            block_list::unlink(h);
        }
        std::free(h);
    }
    // What is left in the lists is cached (freed with the caches) or a frame that escaped the
    // runtime: a task<T> made inside it and handed out unstarted, say. Such a frame may be
    // destroyed after the runtime is gone, so it must no longer point at a worker.
    auto release_escaped = [](block_list& l) {
        for (frame_header* h = l.head.next; h != &l.head; h = h->next) {
            if (h->role == role_frame) {
                h->list = list_none;
                h->owner = nullptr;
            }
        }
    };
    for (auto& w : rt.workers)
        release_escaped(w->blocks);
    release_escaped(rt.foreign_blocks);
}

}  // namespace gorun::detail
