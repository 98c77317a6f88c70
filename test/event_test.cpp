// event: a manual-reset event for tasks (docs/design/sync.md: SYNC-3, SYNC-6).
#include "harness.hpp"

#include <atomic>
#include <thread>

namespace {

gorun::task<> wait_then_count(gorun::event* e, std::atomic<int>* woken) {
    co_await e->wait();
    woken->fetch_add(1);
}

}  // namespace

GORUN_TEST_CASE("SYNC-6: an event wakes every waiter on set and lets later waiters through at "
                "once") {
    gorun::event e;
    std::atomic<int> woken{0};
    gorun::wait_group all;
    for (int i = 0; i < 20; ++i)
        all.go(wait_then_count, &e, &woken);
    for (int i = 0; i < 50; ++i)
        co_await gorun::yield();
    CHECK(woken.load() == 0);  // nobody passes an event that is not set
    CHECK_FALSE(e.is_set());
    e.set();
    CHECK(e.is_set());
    co_await all.wait();
    CHECK(woken.load() == 20);
    co_await e.wait();  // set: passes at once
    for (int i = 0; i < 5; ++i)
        all.go(wait_then_count, &e, &woken);
    co_await all.wait();
    CHECK(woken.load() == 25);
    CHECK(e.is_set());  // waking does not reset it
}

GORUN_TEST_CASE("reset makes later waits suspend again until the next set; repeating either is "
                "harmless") {
    gorun::event e(true);
    CHECK(e.is_set());
    e.set();
    CHECK(e.is_set());
    e.reset();
    CHECK_FALSE(e.is_set());
    e.reset();
    CHECK_FALSE(e.is_set());
    std::atomic<int> woken{0};
    gorun::wait_group all;
    for (int i = 0; i < 4; ++i)
        all.go(wait_then_count, &e, &woken);
    for (int i = 0; i < 50; ++i)
        co_await gorun::yield();
    CHECK(woken.load() == 0);
    e.set();
    co_await all.wait();
    CHECK(woken.load() == 4);
}

GORUN_TEST_CASE("SYNC-6: no wake-up is lost when waits race with set on every worker") {
    // Waiters and the setter start together, so waits land before, during and after set(); a
    // lost wake-up leaves a waiter parked and the test hangs into the watchdog.
    for (int round = 0; round < 300; ++round) {
        gorun::event e;
        std::atomic<int> woken{0};
        gorun::wait_group all;
        for (int i = 0; i < 8; ++i) {
            all.go(wait_then_count, &e, &woken);
            if (i == 4)
                gorun::go(
                    [](gorun::event* e) -> gorun::task<> {
                        e->set();
                        co_return;
                    },
                    &e);
        }
        co_await all.wait();
        CHECK(woken.load() == 8);
    }
}

GORUN_TEST_CASE("SYNC-6: what the setter wrote before set is visible to every task it releases") {
    gorun::event e;
    long payload = 0;  // plain: published by set()
    std::atomic<int> wrong{0};
    gorun::wait_group all;
    for (int i = 0; i < 8; ++i)
        all.go(
            [](gorun::event* e, long* p, std::atomic<int>* wrong) -> gorun::task<> {
                co_await e->wait();
                if (*p != 42)
                    wrong->fetch_add(1);
            },
            &e,
            &payload,
            &wrong);
    co_await gorun::yield();
    payload = 42;
    e.set();
    co_await all.wait();
    CHECK(wrong.load() == 0);
}

GORUN_TEST_CASE("SYNC-3: an event in the waiter's frame may be destroyed as soon as wait returns") {
    // set() races with the waiter returning and destroying the event (the next round builds a
    // new one in the same place); ASan/TSan flag any touch of it after the waiter could pass.
    for (int i = 0; i < 10000; ++i) {
        gorun::event e;
        gorun::go(
            [](gorun::event* e) -> gorun::task<> {
                e->set();
                co_return;
            },
            &e);
        co_await e.wait();
    }
}

GORUN_TEST_CASE("set from a plain thread wakes the waiting tasks") {
    gorun::event e;
    std::atomic<int> woken{0};
    gorun::wait_group all;
    for (int i = 0; i < 4; ++i)
        all.go(wait_then_count, &e, &woken);
    std::thread t([&e] { e.set(); });
    co_await all.wait();
    t.join();
    CHECK(woken.load() == 4);
}
