// metrics(): the runtime's counters, and what they prove about the frame cache.
#include "harness.hpp"

namespace {
gorun::task<int> one() {
    co_return 1;
}

gorun::task<int> spawn_join_batches(int batches) {
    int sum = 0;
    for (int b = 0; b < batches; ++b) {
        gorun::join_handle<int> hs[100];
        for (auto& h : hs)
            h = gorun::spawn(one);
        for (auto& h : hs)
            sum += co_await h;
    }
    co_return sum;
}
}  // namespace

GORUN_TEST_CASE_WITH("steady-state spawn and join take every frame from the worker's cache", {1u}) {
    CHECK(co_await spawn_join_batches(100) == 10'000);  // warm the cache up
    gorun::runtime_metrics before = gorun::metrics();
    CHECK(co_await spawn_join_batches(100) == 10'000);
    gorun::runtime_metrics after = gorun::metrics();
    CHECK(after.tasks_spawned - before.tasks_spawned == 10'000);
    CHECK(after.tasks_finished - before.tasks_finished == 10'000);
    CHECK(after.frames_from_malloc == before.frames_from_malloc);
}

GORUN_TEST_CASE("metrics count spawned tasks and report the worker count") {
    gorun::runtime_metrics before = gorun::metrics();
    CHECK(before.workers == gorun::test::workers());
    CHECK(co_await spawn_join_batches(10) == 1000);
    gorun::runtime_metrics after = gorun::metrics();
    CHECK(after.tasks_spawned - before.tasks_spawned == 1000);
    CHECK(after.tasks_run > before.tasks_run);
}

TEST_CASE("metrics outside a task are zero, and a runtime object reports its own") {
    gorun::runtime_metrics m = gorun::metrics();
    CHECK(m.workers == 0);
    gorun::runtime_options opts;
    opts.workers = 3;
    gorun::runtime rt(opts);
    CHECK(rt.metrics().workers == 3);
}
