// sleep_for / sleep_until and the per-worker timer heap.
#include "harness.hpp"

#include <atomic>
#include <cmath>
#include <mutex>
#include <vector>

using namespace std::chrono_literals;

GORUN_TEST_CASE("sleep_for suspends for at least the duration") {
    auto t0 = gorun::clock::now();
    co_await gorun::sleep_for(20ms);
    CHECK(gorun::clock::now() - t0 >= 20ms);
    auto deadline = gorun::clock::now() + 5ms;
    co_await gorun::sleep_until(deadline);
    CHECK(gorun::clock::now() >= deadline);
}

GORUN_TEST_CASE("a zero or past sleep does not suspend") {
    co_await gorun::sleep_for(0ms);
    co_await gorun::sleep_for(-5ms);
    co_await gorun::sleep_until(gorun::clock::now() - 1s);
    CHECK(true);
}

namespace {
std::vector<std::int64_t> fired_deadlines;  // touched only by the single worker
void record_fire(gorun::detail::timer_node* n) noexcept {
    fired_deadlines.push_back(n->deadline_ns);
}
}  // namespace

GORUN_TEST_CASE_WITH("timers on one worker fire in deadline order", {1u}) {
    // Deadlines fixed up front and recorded by the fire callbacks themselves: the order in
    // which the woken tasks then run is the scheduler's business, not the heap's.
    fired_deadlines.clear();
    std::int64_t base = gorun::detail::now_ns() + 2'000'000;
    int delays_ms[] = {40, 10, 30, 20, 50, 15, 5, 15};
    gorun::detail::timer_node nodes[8];
    for (int i = 0; i < 8; ++i) {
        nodes[i].deadline_ns = base + delays_ms[i] * 1'000'000LL;
        nodes[i].fire = &record_fire;
        REQUIRE(gorun::detail::timer_arm(nodes[i]));
    }
    while (fired_deadlines.size() < 8)
        co_await gorun::sleep_for(5ms);
    for (std::size_t i = 1; i < fired_deadlines.size(); ++i)
        CHECK(fired_deadlines[i - 1] <= fired_deadlines[i]);
}

GORUN_TEST_CASE("a hundred thousand pending sleeps all fire once") {
    constexpr int n = 100'000;
    std::atomic<int> fired{0};
    gorun::wait_group wg;
    auto deadline = gorun::clock::now() + 50ms;
    for (int i = 0; i < n; ++i)
        wg.go([deadline, &fired]() -> gorun::task<> {
            co_await gorun::sleep_until(deadline);
            fired.fetch_add(1, std::memory_order_relaxed);
        });
    co_await wg.wait();
    CHECK(fired.load() == n);
}

namespace {
std::atomic<int> cancelled_fired{0};
std::atomic<int> kept_fired{0};
void on_cancelled(gorun::detail::timer_node*) noexcept {
    cancelled_fired.fetch_add(1);
}
void on_kept(gorun::detail::timer_node*) noexcept {
    kept_fired.fetch_add(1);
}
}  // namespace

GORUN_TEST_CASE("a cancelled timer never fires; its neighbour still does") {
    cancelled_fired = 0;
    kept_fired = 0;
    gorun::detail::timer_node a, b;
    a.deadline_ns = gorun::detail::now_ns() + 5'000'000;
    a.fire = &on_cancelled;
    b.deadline_ns = a.deadline_ns;
    b.fire = &on_kept;
    REQUIRE(gorun::detail::timer_arm(a));
    REQUIRE(gorun::detail::timer_arm(b));
    // Same task, no suspension in between: still on the worker that armed them.
    CHECK(gorun::detail::timer_cancel(a));
    CHECK_FALSE(gorun::detail::timer_cancel(a));  // already disarmed
    while (kept_fired.load() == 0)
        co_await gorun::sleep_for(1ms);
    co_await gorun::sleep_for(10ms);
    CHECK(kept_fired.load() == 1);
    CHECK(cancelled_fired.load() == 0);
}

GORUN_TEST_CASE("a NaN or sub-nanosecond floating sleep neither overflows nor hangs") {
    // duration_cast of NaN to nanoseconds is UB (UBSan: float-cast-overflow); NaN is not > 0,
    // so it is treated as no sleep at all.
    co_await gorun::sleep_for(std::chrono::duration<double>(std::nan("")));
    co_await gorun::sleep_for(std::chrono::duration<double, std::nano>(0.25));
    CHECK(true);
}

GORUN_TEST_CASE("an absurdly long sleep saturates instead of overflowing, and shutdown ends it") {
    // Started and left sleeping: the runtime's shutdown destroys it (SCHED-1). Before the
    // saturation, 1000 years of nanoseconds overflowed into a deadline in the past.
    std::atomic<bool> woke{false};
    gorun::go([&woke]() -> gorun::task<> {
        co_await gorun::sleep_for(std::chrono::years(1000));
        woke = true;
    });
    gorun::go([&woke]() -> gorun::task<> {
        co_await gorun::sleep_for(std::chrono::hours(24 * 365 * 200));
        woke = true;
    });
    co_await gorun::sleep_for(20ms);
    CHECK_FALSE(woke.load());
    CHECK(gorun::metrics().timers_pending >= 2);
}
