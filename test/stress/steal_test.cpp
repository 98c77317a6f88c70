// Steal imbalance: work spawned on one worker reaches the others only by stealing.
#include "harness.hpp"

#include <atomic>
#include <thread>

namespace {

std::atomic<int> ran_elsewhere{0};
std::atomic<int> ran_total{0};

gorun::task<> note(std::thread::id spawner) {
    if (std::this_thread::get_id() != spawner)
        ran_elsewhere.fetch_add(1);
    ran_total.fetch_add(1);
    co_return;
}

}  // namespace

GORUN_TEST_CASE_WITH(
    "tasks spawned on a worker that never suspends are stolen by the others", {2u, 4u}) {
    ran_elsewhere = 0;
    ran_total = 0;
    constexpr int n = 10'000;
    auto me = std::this_thread::get_id();
    gorun::wait_group wg;
    for (int i = 0; i < n; ++i)
        wg.go(note, me);
    // Hold this worker without suspending: its queue can only drain through thieves. Not a
    // sleep: we wait for the event itself, and the watchdog bounds the wait.
    while (ran_elsewhere.load() == 0)
        std::this_thread::yield();
    co_await wg.wait();
    CHECK(ran_total.load() == n);
    CHECK(ran_elsewhere.load() > 0);
}
