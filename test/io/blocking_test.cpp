// gorun/blocking.hpp: the elastic pool for blocking calls.
#include <gorun/blocking.hpp>

#include "harness.hpp"

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

GORUN_TEST_CASE("blocking yields the function's value, off the worker thread") {
    auto worker_thread = std::this_thread::get_id();
    std::thread::id ran_on;
    int v = co_await gorun::blocking([&] {
        ran_on = std::this_thread::get_id();
        return 42;
    });
    CHECK(v == 42);
    CHECK(ran_on != worker_thread);

    std::string s = co_await gorun::blocking([] { return std::string(1000, 'x'); });
    CHECK(s.size() == 1000);

    auto p = co_await gorun::blocking([] { return std::make_unique<int>(7); });  // move-only
    REQUIRE(p);
    CHECK(*p == 7);

    int target = 1;
    int& ref = co_await gorun::blocking([&]() -> int& { return target; });
    CHECK(&ref == &target);

    bool called = false;
    co_await gorun::blocking([&] { called = true; });
    CHECK(called);
    // The pool counts a call after it has woken the task: wait for the count to catch up.
    while (gorun::metrics().blocking_calls < 5)
        co_await gorun::yield();
}

GORUN_TEST_CASE("blocking rethrows the function's exception in the task") {
    bool caught = false;
    try {
        co_await gorun::blocking([]() -> int { throw std::runtime_error("boom"); });
    } catch (const std::runtime_error& e) {
        caught = std::string(e.what()) == "boom";
    }
    CHECK(caught);
}

namespace {

gorun::task<> many_calls(int n, std::atomic<long>* sum) {
    for (int i = 0; i < n; ++i)
        sum->fetch_add(co_await gorun::blocking([i] { return i; }));
}

// `tasks` tasks each make `calls` blocking calls; every result must come back to its caller.
gorun::task<> calls_from_tasks(int tasks, int calls) {
    std::atomic<long> sum{0};
    gorun::wait_group wg;
    for (int t = 0; t < tasks; ++t)
        wg.go(many_calls, calls, &sum);
    co_await wg.wait();
    CHECK(sum.load() == static_cast<long>(tasks) * (calls * (calls - 1) / 2));
}

}  // namespace

GORUN_TEST_CASE("blocking calls from many tasks all complete with their own results") {
    co_await calls_from_tasks(50, 40);
}

namespace {

struct gate {
    std::mutex mu;
    std::condition_variable cv;
    bool open = false;
    void wait() {
        std::unique_lock lock(mu);
        cv.wait(lock, [this] { return open; });
    }
    void release() {
        std::lock_guard lock(mu);
        open = true;
        cv.notify_all();
    }
};

gorun::task<> held_call(gate* g, std::atomic<int>* done) {
    co_await gorun::blocking([g] { g->wait(); });
    done->fetch_add(1);
}

constexpr unsigned cap = 3;

gorun::task<> cap_body() {
    constexpr int calls = 12;
    gate g;
    std::atomic<int> done{0};
    gorun::wait_group wg;
    for (int i = 0; i < calls; ++i)
        wg.go(held_call, &g, &done);
    // Every call is either running (blocked at the gate) or queued; the pool may not grow
    // past its cap to take the queued ones.
    for (;;) {
        auto m = gorun::metrics();
        if (m.blocking_threads == cap && m.blocking_queued == calls - cap)
            break;
        CHECK(m.blocking_threads <= cap);
        co_await gorun::yield();
    }
    g.release();
    co_await wg.wait();
    CHECK(done.load() == calls);
    CHECK(gorun::metrics().blocking_threads_peak == cap);
}

gorun::task<> idle_body() {
    co_await gorun::blocking([] {});
    CHECK(gorun::metrics().blocking_threads_peak == 1);
    // The thread exits after blocking_idle (1 ms) without work; the watchdog bounds the wait.
    while (gorun::metrics().blocking_threads != 0)
        co_await gorun::yield();
    int v = co_await gorun::blocking([] { return 5; });  // the pool grows again
    CHECK(v == 5);
}

}  // namespace

TEST_CASE("the blocking pool never runs more threads than its cap; the rest wait in order") {
    gorun::runtime_options opts;
    opts.blocking_threads = cap;
    gorun::test::run_body(&cap_body, 1, opts);
    gorun::test::run_body(&cap_body, 4, opts);
}

TEST_CASE("idle blocking-pool threads exit, and the pool grows again on demand") {
    gorun::runtime_options opts;
    opts.blocking_idle = std::chrono::milliseconds(1);
    gorun::test::run_body(&idle_body, 2, opts);
}

namespace {

gorun::task<> shrink_race_body() {
    // blocking_idle = 0: a thread with nothing queued exits at once, so every call races a
    // thread on its way out (idle_ counted, wait timed out) against submit(). A job left with
    // no thread to run it would hang here (the watchdog reports it).
    co_await calls_from_tasks(8, 300);
    CHECK(gorun::metrics().blocking_threads_peak <= 2);
}

}  // namespace

TEST_CASE("idle shrink racing new calls loses none, under a cap (coverage)") {
    gorun::runtime_options opts;
    opts.blocking_idle = std::chrono::milliseconds(0);
    opts.blocking_threads = 2;
    gorun::test::run_body(&shrink_race_body, 1, opts);
    gorun::test::run_body(&shrink_race_body, 4, opts);
}
