// A million pending sleeps (DESIGN.md 1.4): all of them fire, once, in deadline order per
// worker, with no kernel timer per sleep. GORUN_STRESS_SCALE x 1M tasks (a tenth under
// sanitizers).
#include "harness.hpp"

#include <atomic>
#include <vector>

using namespace std::chrono_literals;

namespace {

std::uint64_t sleepers() {
    std::uint64_t n = 1'000'000 * gorun::test::stress_scale();
    return gorun::test::sanitized() ? n / 10 : n;
}

struct state {
    std::atomic<std::uint64_t> fired{0};
    std::atomic<std::uint64_t> early{0};
};

gorun::task<> sleeper(state* s, gorun::clock::time_point deadline) {
    co_await gorun::sleep_until(deadline);
    if (gorun::clock::now() < deadline)
        s->early.fetch_add(1, std::memory_order_relaxed);
    s->fired.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

GORUN_TEST_CASE_WITH("a million pending sleeps all fire exactly once and never early", {1u, 2u}) {
    state s;
    const std::uint64_t n = sleepers();
    gorun::wait_group wg;
    // Deadlines spread over 200 ms, so the heap holds most of them at once.
    auto base = gorun::clock::now() + 50ms;
    for (std::uint64_t i = 0; i < n; ++i)
        wg.go(sleeper, &s, base + std::chrono::microseconds((i * 7919) % 200'000));
    co_await wg.wait();
    CHECK(s.fired.load() == n);
    CHECK(s.early.load() == 0);
}
