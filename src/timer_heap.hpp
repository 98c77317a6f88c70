// A worker's timers: a binary min-heap of timer_node*, ordered by (deadline, arming order).
//
// Owned by one worker; only its thread touches it (the nodes live in the frames of tasks
// parked on this worker). Insert and cancel are O(log n); a million pending sleeps cost one
// pointer each here plus the node in their own frame. A heap rather than a wheel: deadlines
// in gorun range from microseconds to hours and the heap needs no tuning; if profiles ever
// show the heap, a hierarchical wheel can replace it behind this interface.
#pragma once

#include <gorun/detail/timer.hpp>

#include <cstdint>
#include <vector>

namespace gorun::detail {

class timer_heap {
public:
    bool empty() const noexcept { return heap_.empty(); }
    std::size_t size() const noexcept { return heap_.size(); }
    std::int64_t next_deadline() const noexcept { return heap_.front()->deadline_ns; }

    void add(timer_node* n) {
        n->seq = seq_++;
        n->armed = true;
        n->heap_index = static_cast<std::uint32_t>(heap_.size());
        heap_.push_back(n);
        sift_up(n->heap_index);
    }

    // Removes an armed node.
    void remove(timer_node* n) noexcept {
        std::uint32_t i = n->heap_index;
        n->armed = false;
        timer_node* last = heap_.back();
        heap_.pop_back();
        if (last == n)
            return;
        heap_[i] = last;
        last->heap_index = i;
        sift_down(i);
        sift_up(last->heap_index);
    }

    // Pops the earliest node if its deadline is <= now.
    timer_node* pop_expired(std::int64_t now) noexcept {
        if (heap_.empty() || heap_.front()->deadline_ns > now)
            return nullptr;
        timer_node* n = heap_.front();
        remove(n);
        return n;
    }

    // Drops every node without firing it (shutdown: the frames are about to be destroyed);
    // heap-owned nodes are disposed of.
    void clear() noexcept {
        for (timer_node* n : heap_) {
            n->armed = false;
            if (n->dispose)
                n->dispose(n);
        }
        heap_.clear();
    }

    // Removes and disposes of cancelled heap-owned nodes (tombstones); O(n). Returns how many.
    std::size_t purge_cancelled() noexcept {
        std::size_t kept = 0, removed = 0;
        for (timer_node* n : heap_) {
            if (n->is_cancelled && n->is_cancelled(n)) {
                n->armed = false;
                n->dispose(n);
                ++removed;
            } else {
                heap_[kept++] = n;
            }
        }
        heap_.resize(kept);
        for (std::size_t i = 0; i < kept; ++i)
            heap_[i]->heap_index = static_cast<std::uint32_t>(i);
        for (std::size_t i = kept / 2; i-- > 0;)
            sift_down(static_cast<std::uint32_t>(i));
        return removed;
    }

private:
    static bool before(const timer_node* a, const timer_node* b) noexcept {
        return a->deadline_ns < b->deadline_ns
            || (a->deadline_ns == b->deadline_ns && a->seq < b->seq);
    }
    void place(std::uint32_t i, timer_node* n) noexcept {
        heap_[i] = n;
        n->heap_index = i;
    }
    void sift_up(std::uint32_t i) noexcept {
        timer_node* n = heap_[i];
        while (i > 0) {
            std::uint32_t parent = (i - 1) / 2;
            if (!before(n, heap_[parent]))
                break;
            place(i, heap_[parent]);
            i = parent;
        }
        place(i, n);
    }
    void sift_down(std::uint32_t i) noexcept {
        timer_node* n = heap_[i];
        auto size = static_cast<std::uint32_t>(heap_.size());
        for (;;) {
            std::uint32_t c = 2 * i + 1;
            if (c >= size)
                break;
            if (c + 1 < size && before(heap_[c + 1], heap_[c]))
                ++c;
            if (!before(heap_[c], n))
                break;
            place(i, heap_[c]);
            i = c;
        }
        place(i, n);
    }

    std::vector<timer_node*> heap_;
    std::uint64_t seq_ = 0;
};

}  // namespace gorun::detail
