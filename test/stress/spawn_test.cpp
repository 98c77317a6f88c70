// Spawn storms (SCHED-1): every spawned task runs exactly once, whoever spawns it and whoever
// steals it. Sizes: GORUN_STRESS_SCALE x 1M tasks (10 = the 10M storm of the release run),
// a tenth of that under sanitizers.
#include "harness.hpp"

#include <atomic>
#include <memory>
#include <vector>

namespace {

std::uint64_t storm_size() {
    std::uint64_t n = 1'000'000 * gorun::test::stress_scale();
    return gorun::test::sanitized() ? n / 10 : n;
}

struct tally {
    explicit tally(std::uint64_t n)
        : hits(n) {}
    std::vector<std::atomic<std::uint8_t>> hits;
    std::atomic<std::uint64_t> total{0};

    void check() const {
        std::uint64_t zero = 0, many = 0;
        for (const auto& h : hits) {
            auto v = h.load(std::memory_order_relaxed);
            zero += v == 0;
            many += v > 1;
        }
        CHECK(zero == 0);
        CHECK(many == 0);
        CHECK(total.load() == hits.size());
    }
};

gorun::task<> leaf(tally* t, std::uint64_t i) {
    t->hits[i].fetch_add(1, std::memory_order_relaxed);
    t->total.fetch_add(1, std::memory_order_relaxed);
    co_return;
}

// A 10-ary spawn tree over [lo, hi): spawns happen on every worker, joins cross workers.
gorun::task<> tree(tally* t, std::uint64_t lo, std::uint64_t hi) {
    if (hi - lo <= 16) {
        for (std::uint64_t i = lo; i < hi; ++i)
            co_await leaf(t, i);
        co_return;
    }
    std::uint64_t step = (hi - lo + 9) / 10;
    gorun::join_handle<void> kids[10];
    int k = 0;
    for (std::uint64_t b = lo; b < hi; b += step)
        kids[k++] = gorun::spawn(tree, t, b, std::min(hi, b + step));
    for (int i = 0; i < k; ++i)
        co_await kids[i];
}

}  // namespace

GORUN_TEST_CASE_WITH(
    "a flat spawn storm from one task runs every task exactly once", {1u, 2u, 4u}) {
    auto t = std::make_unique<tally>(storm_size());
    gorun::wait_group wg;
    for (std::uint64_t i = 0; i < t->hits.size(); ++i)
        wg.go(leaf, t.get(), i);  // all spawned on one worker: the others must steal
    co_await wg.wait();
    t->check();
}

GORUN_TEST_CASE_WITH(
    "a spawn tree with joins across workers runs every task exactly once", {1u, 2u, 4u}) {
    auto t = std::make_unique<tally>(storm_size());
    co_await tree(t.get(), 0, t->hits.size());
    t->check();
}
