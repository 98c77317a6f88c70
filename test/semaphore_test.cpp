// semaphore: a counting semaphore for tasks (docs/design/sync.md: SYNC-3, SYNC-4).
#include "harness.hpp"

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace {

constexpr int permits = 3;

// Holds a permit across a yield, so that holders overlap, and records the most at once.
gorun::task<> hold_a_while(gorun::semaphore* s, std::atomic<int>* holders, std::atomic<int>* most) {
    for (int i = 0; i < 300; ++i) {
        co_await s->acquire();
        int now = holders->fetch_add(1) + 1;
        int seen = most->load();
        while (now > seen && !most->compare_exchange_weak(seen, now)) {
        }
        co_await gorun::yield();
        holders->fetch_sub(1);
        s->release();
    }
}

gorun::task<> queue_then_record(
    gorun::semaphore* s,
    std::vector<int>* order,
    int id,
    gorun::wait_group* queued,
    gorun::wait_group* served) {
    queued->done();
    co_await s->acquire();
    order->push_back(id);
    served->done();
}

int drain(gorun::semaphore& s) {
    int n = 0;
    while (s.try_acquire())
        ++n;
    return n;
}

}  // namespace

GORUN_TEST_CASE("SYNC-4: a semaphore of N never admits more than N holders at once, and ends with "
                "its N permits") {
    gorun::semaphore s(permits);
    std::atomic<int> holders{0}, most{0};
    gorun::wait_group wg;
    for (int i = 0; i < 16; ++i)
        wg.go(hold_a_while, &s, &holders, &most);
    co_await wg.wait();
    CHECK(most.load() <= permits);
    CHECK(most.load() == permits);  // it does admit N: holders overlap across the yield
    CHECK(drain(s) == permits);     // no permit lost or made up
}

GORUN_TEST_CASE("try_acquire takes a free permit and fails when none is left") {
    gorun::semaphore s(2);
    CHECK(s.try_acquire());
    CHECK(s.try_acquire());
    CHECK_FALSE(s.try_acquire());
    s.release();
    CHECK(s.try_acquire());
    CHECK_FALSE(s.try_acquire());
    s.release(0);  // nothing
    CHECK_FALSE(s.try_acquire());
    gorun::semaphore none(0);
    CHECK_FALSE(none.try_acquire());
    co_return;
}

// One worker: a task runs until it suspends, so once `queued` has woken this task the waiter
// that signalled it has reached its suspension in acquire(): waiters queue in spawn order.
GORUN_TEST_CASE_WITH(
    "SYNC-4: release(n) hands permits to the n longest waiters, not to a later try_acquire, and "
    "keeps the rest free",
    {1u}) {
    gorun::semaphore s(0);
    std::vector<int> order;
    gorun::wait_group first_three, last_two;
    first_three.add(3);
    last_two.add(2);
    for (int i = 0; i < 5; ++i) {
        gorun::wait_group queued;
        queued.add(1);
        gorun::go(queue_then_record, &s, &order, i, &queued, i < 3 ? &first_three : &last_two);
        co_await queued.wait();
    }
    s.release(3);
    CHECK_FALSE(s.try_acquire());  // the three permits belong to waiters 0..2 already
    co_await first_three.wait();
    // Which waiters got the permits is FIFO; the order they then run in is the scheduler's.
    std::sort(order.begin(), order.end());
    CHECK(order == std::vector<int>{0, 1, 2});
    s.release(4);  // two for waiters 3 and 4, two left free
    co_await last_two.wait();
    std::sort(order.begin(), order.end());
    CHECK(order == std::vector<int>{0, 1, 2, 3, 4});
    CHECK(drain(s) == 2);
}

GORUN_TEST_CASE("many tasks acquiring and releasing on every worker lose no permit and no waiter") {
    // A semaphore of one with 8 tasks: nearly every acquire queues, nearly every release hands
    // over, so the locked slow paths race with each other and with the fast paths.
    gorun::semaphore s(1);
    long counter = 0;  // plain: guarded by the permit
    gorun::wait_group wg;
    for (int i = 0; i < 8; ++i)
        wg.go(
            [](gorun::semaphore* s, long* counter) -> gorun::task<> {
                for (int j = 0; j < 2000; ++j) {
                    if (j % 3 == 0) {
                        while (!s->try_acquire())
                            co_await gorun::yield();
                    } else {
                        co_await s->acquire();
                    }
                    ++*counter;
                    if (j % 64 == 0)
                        co_await gorun::yield();
                    s->release();
                }
            },
            &s,
            &counter);
    co_await wg.wait();
    CHECK(counter == 16'000);
    CHECK(drain(s) == 1);
}

GORUN_TEST_CASE("SYNC-3: a semaphore in the waiter's frame may be destroyed as soon as acquire "
                "returns") {
    // The release races with the acquirer returning and destroying the semaphore (the next
    // round builds a new one in the same place): it either hands the permit to the queued
    // waiter or makes it free for the acquirer's fast path; ASan/TSan flag any late touch.
    for (int i = 0; i < 10000; ++i) {
        gorun::semaphore s(0);
        gorun::go(
            [](gorun::semaphore* s) -> gorun::task<> {
                s->release();
                co_return;
            },
            &s);
        co_await s.acquire();
    }
}

GORUN_TEST_CASE("release from a plain thread wakes a waiting task") {
    gorun::semaphore s(0);
    std::thread t([&s] { s.release(); });
    co_await s.acquire();
    t.join();
    CHECK_FALSE(s.try_acquire());
}
