// mutex: mutual exclusion for tasks with FIFO hand-off (docs/design/sync.md: SYNC-1..3, 7, 8).
#include "harness.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace {

// One critical section: counts tasks inside it to catch overlap, bumps a plain counter (a race
// there is a TSan report and a wrong total), and sometimes yields while holding the mutex, so
// that other tasks queue even with one worker.
gorun::task<> locker(
    gorun::mutex* m, long* counter, std::atomic<int>* inside, std::atomic<int>* overlaps, int id) {
    for (int i = 0; i < 10'000; ++i) {
        gorun::mutex::guard g;
        if (id % 2 == 0)
            co_await m->lock();
        else
            g = co_await m->scoped_lock();
        if (inside->fetch_add(1) != 0)
            overlaps->fetch_add(1);
        ++*counter;
        if (i % 256 == 0)
            co_await gorun::yield();
        inside->fetch_sub(1);
        if (id % 2 == 0)
            m->unlock();
    }
}

gorun::task<>
queue_then_record(gorun::mutex* m, std::vector<int>* order, int id, gorun::wait_group* queued) {
    queued->done();
    co_await m->lock();
    order->push_back(id);
    m->unlock();
}

gorun::task<> lock_once(gorun::mutex* m, std::atomic<bool>* started, std::atomic<bool>* got) {
    started->store(true);
    auto g = co_await m->scoped_lock();
    got->store(true);
}

// ---- shutdown (SYNC-8) ----
gorun::task<> lock_in_nested_frame(gorun::mutex* m, gorun::event* never) {
    co_await m->lock();  // the waiter node lives in this nested frame
    co_await never->wait();
}
gorun::task<> wait_forever(gorun::mutex* m, gorun::event* never) {
    co_await lock_in_nested_frame(m, never);
}
gorun::task<> hold_forever(gorun::mutex* m, gorun::event* never, gorun::wait_group* locked) {
    auto g = co_await m->scoped_lock();
    for (int i = 0; i < 3; ++i)
        gorun::go(wait_forever, m, never);
    locked->done();
    co_await never->wait();
}
gorun::task<> own_mutex(gorun::event* never, gorun::wait_group* locked) {
    gorun::mutex m;  // in a nested frame: shutdown frees it as soon as it destroys it
    gorun::go(hold_forever, &m, never, locked);
    co_await never->wait();
}
gorun::task<> owner_root(gorun::event* never, gorun::wait_group* locked) {
    co_await own_mutex(never, locked);
}
gorun::task<> leave_locked_mutexes_behind() {
    gorun::event never;
    gorun::wait_group locked;
    locked.add(20);
    for (int i = 0; i < 20; ++i)
        gorun::go(owner_root, &never, &locked);
    co_await locked.wait();
    for (int i = 0; i < 100; ++i)
        co_await gorun::yield();  // let the waiters queue
}

}  // namespace

GORUN_TEST_CASE("SYNC-2: 8 tasks incrementing a plain counter 10,000 times each under the lock "
                "get 80,000") {
    gorun::mutex m;
    long counter = 0;
    std::atomic<int> inside{0}, overlaps{0};
    gorun::wait_group wg;
    for (int id = 0; id < 8; ++id)
        wg.go(locker, &m, &counter, &inside, &overlaps, id);
    co_await wg.wait();
    CHECK(counter == 80'000);
    CHECK(overlaps.load() == 0);
    CHECK(m.try_lock());  // and it ends unlocked
    m.unlock();
}

GORUN_TEST_CASE("try_lock succeeds on a free mutex and fails while any task holds it") {
    gorun::mutex m;
    CHECK(m.try_lock());
    CHECK_FALSE(m.try_lock());
    std::atomic<int> other{-1};
    gorun::wait_group wg;
    wg.go(
        [](gorun::mutex* m, std::atomic<int>* r) -> gorun::task<> {
            r->store(m->try_lock() ? 1 : 0);
            co_return;
        },
        &m,
        &other);
    co_await wg.wait();
    CHECK(other.load() == 0);
    m.unlock();
    CHECK(m.try_lock());
    m.unlock();
}

// One worker: a task runs until it suspends, so once `queued` has woken this task, the waiter
// that signalled it has reached its suspension inside lock(). Waiters thus queue in spawn
// order, and the hand-off order can be checked exactly.
GORUN_TEST_CASE_WITH(
    "SYNC-1: unlock hands the mutex to the longest waiter first, and a try_lock right after the "
    "unlock fails",
    {1u}) {
    gorun::mutex m;
    std::vector<int> order;
    gorun::wait_group all;
    co_await m.lock();
    for (int i = 0; i < 10; ++i) {
        gorun::wait_group queued;
        queued.add(1);
        all.go(queue_then_record, &m, &order, i, &queued);
        co_await queued.wait();
    }
    m.unlock();
    CHECK_FALSE(m.try_lock());  // waiter 0 holds it now, though it has not run yet
    co_await all.wait();
    CHECK(order == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
    CHECK(m.try_lock());
    m.unlock();
}

GORUN_TEST_CASE("SYNC-1: a waiter gets the mutex even while its holder keeps unlocking and "
                "relocking it") {
    gorun::mutex m;
    std::atomic<bool> started{false}, got{false};
    co_await m.lock();
    gorun::wait_group wg;
    wg.go(lock_once, &m, &started, &got);
    while (!started.load())
        co_await gorun::yield();
    // Without hand-off the holder's relock would win every time: it never suspends, and with
    // one worker the waiter would never even run. With it, the first unlock after the waiter
    // queued gives it the mutex and the relock queues behind it.
    long rounds = 0;
    while (!got.load()) {
        m.unlock();
        co_await m.lock();
        ++rounds;
    }
    m.unlock();
    co_await wg.wait();
    if (gorun::test::workers() == 1)
        CHECK(rounds == 1);  // the waiter queued before `started` woke us: the first unlock
    CHECK(got.load());
}

GORUN_TEST_CASE("a guard unlocks at the end of its scope; moved, released or adopted, it unlocks "
                "exactly once") {
    gorun::mutex m, m2;
    {
        auto g = co_await m.scoped_lock();
        CHECK(g.owns_lock());
        CHECK_FALSE(m.try_lock());
        gorun::mutex::guard moved = std::move(g);
        CHECK_FALSE(g.owns_lock());  // NOLINT(bugprone-use-after-move): the point of the test
        CHECK(static_cast<bool>(moved));
        CHECK_FALSE(m.try_lock());
    }
    CHECK(m.try_lock());  // unlocked once (a second unlock would have been fatal)
    m.unlock();
    {
        auto g = co_await m.scoped_lock();
        g.unlock();
        CHECK_FALSE(g.owns_lock());
        CHECK(m.try_lock());
        m.unlock();
    }
    {
        auto g = co_await m.scoped_lock();
        gorun::mutex* p = g.release();
        CHECK(p == &m);
        CHECK_FALSE(g.owns_lock());
        CHECK_FALSE(m.try_lock());
        p->unlock();
    }
    {
        REQUIRE(m.try_lock());
        gorun::mutex::guard g(m, std::adopt_lock);
    }
    CHECK(m.try_lock());
    m.unlock();
    {
        auto a = co_await m.scoped_lock();
        auto b = co_await m2.scoped_lock();
        a = std::move(b);  // unlocks m, takes over m2
        CHECK(m.try_lock());
        m.unlock();
        CHECK_FALSE(m2.try_lock());
    }
    CHECK(m2.try_lock());
    m2.unlock();
}

GORUN_TEST_CASE("SYNC-3: a mutex in the waiter's frame may be destroyed as soon as lock returns") {
    // The unlock that hands the mutex over races with the waiter returning and destroying it
    // (the next round builds a new one in the same place); ASan/TSan flag any late touch.
    for (int i = 0; i < 10000; ++i) {
        gorun::mutex m;
        co_await m.lock();
        gorun::go(
            [](gorun::mutex* m) -> gorun::task<> {
                m->unlock();
                co_return;
            },
            &m);
        if (i % 2 == 0) {
            co_await m.lock();
            m.unlock();
        } else {
            auto g = co_await m.scoped_lock();
        }
    }
}

TEST_CASE(
    "SYNC-8: a guard in a task destroyed at shutdown leaves its mutex alone (it may be gone)") {
    // Each mutex lives in a nested frame, which shutdown frees as soon as it destroys it; the
    // guard holding it and the waiters queued on it live in other tasks, destroyed in list
    // order. A guard that unlocked there would read freed memory (ASan) or wake dead frames.
    gorun::test::watchdog dog;
    for (unsigned w : {1u, 4u}) {
        gorun::runtime_options opts;
        opts.workers = w;
        gorun::run(leave_locked_mutexes_behind(), opts);
    }
}

TEST_CASE("SYNC-7: unlocking a mutex that is not locked is fatal") {
    gorun::test::child_result r = gorun::test::run_in_child([] {
        gorun::mutex m;
        m.unlock();
        return 0;
    });
    CHECK(WIFSIGNALED(r.status));
    CHECK(WTERMSIG(r.status) == SIGABRT);
    CHECK(r.err.find("mutex::unlock on a mutex that is not locked") != std::string::npos);
}
