// task_group: errgroup with an implicit context — inherited cancellation and deadlines, the
// first error cancels the siblings, wait() after all children.
#include "harness.hpp"

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>

using namespace std::chrono_literals;

namespace {

gorun::task<> count(std::atomic<int>* n) {
    co_await gorun::yield();
    n->fetch_add(1);
}
// Waits for the scope's cancellation; records that it saw it.
gorun::task<> until_cancelled(std::atomic<int>* saw) {
    gorun::channel<int> never;
    auto r = co_await gorun::select(gorun::recv(never), gorun::cancelled());
    if (r.index == 1)
        saw->fetch_add(1);
}
gorun::task<> fail(std::string what) {
    co_await gorun::yield();
    throw std::runtime_error(what);
}

}  // namespace

GORUN_TEST_CASE("wait returns after every child, including ones started by children") {
    std::atomic<int> n{0};
    gorun::task_group g;
    for (int i = 0; i < 200; ++i)
        g.go(count, &n);
    g.go(
        [](gorun::task_group* grp, std::atomic<int>* c) -> gorun::task<> {
            for (int i = 0; i < 50; ++i)
                grp->go(count, c);
            co_return;
        },
        &g,
        &n);
    co_await g.wait();
    CHECK(n.load() == 250);
    CHECK(g.stop_requested());  // wait() cancels the group, as errgroup cancels its context
}

GORUN_TEST_CASE("the first error cancels the siblings and wait rethrows it after all finish") {
    std::atomic<int> saw{0};
    gorun::task_group g;
    for (int i = 0; i < 10; ++i)
        g.go(until_cancelled, &saw);
    g.go(fail, std::string("boom"));
    std::string caught;
    try {
        co_await g.wait();
    } catch (const std::runtime_error& e) {
        caught = e.what();
    }
    CHECK(caught == "boom");
    CHECK(saw.load() == 10);
}

GORUN_TEST_CASE("only the first of several errors is kept") {
    gorun::task_group g;
    g.go(fail, std::string("first"));
    g.go([]() -> gorun::task<> {
        gorun::channel<int> never;
        co_await gorun::select(gorun::recv(never), gorun::cancelled());
        throw std::runtime_error("after the cancel");
    });
    std::string caught;
    try {
        co_await g.wait();
    } catch (const std::runtime_error& e) {
        caught = e.what();
    }
    CHECK(caught == "first");
}

GORUN_TEST_CASE("a deadline cancels the group; children see it through this_task") {
    auto start = std::chrono::steady_clock::now();
    std::atomic<int> saw{0};
    std::atomic<bool> deadline_seen{false};
    std::atomic<bool> early{false};
    gorun::task_group g(20ms);
    REQUIRE(g.deadline().has_value());
    auto expect = *g.deadline();
    for (int i = 0; i < 4; ++i)
        g.go(
            [](std::atomic<int>* s,
               std::atomic<bool>* d,
               std::atomic<bool>* e,
               std::chrono::steady_clock::time_point want) -> gorun::task<> {
                if (gorun::this_task::deadline() == want)
                    d->store(true);
                co_await until_cancelled(s);
                if (std::chrono::steady_clock::now() < want)
                    e->store(true);  // cancelled before the deadline: wrong
            },
            &saw,
            &deadline_seen,
            &early,
            expect);
    co_await g.wait();  // returns normally: no child threw
    CHECK(saw.load() == 4);
    CHECK(deadline_seen.load());
    CHECK_FALSE(early.load());
    CHECK(expect >= start + 20ms);
}

GORUN_TEST_CASE("a wait with no deadline reached does not wait for the deadline") {
    // The watcher is cancelled by wait(); a one-hour deadline must not hold wait() up.
    std::atomic<int> n{0};
    gorun::task_group g(std::chrono::hours(1));
    g.go(count, &n);
    co_await g.wait();
    CHECK(n.load() == 1);
}

GORUN_TEST_CASE("a timeout beyond the clock's range is no deadline; a negative one has passed") {
    // now + hours::max() overflowed (UB; in practice a deadline in the past, so the group was
    // cancelled at once): the duration constructor saturates (detail::deadline_after).
    for (auto timeout : {std::chrono::nanoseconds::max(), std::chrono::nanoseconds(-1)}) {
        bool never = timeout > std::chrono::nanoseconds::zero();
        auto before = std::chrono::steady_clock::now();
        gorun::task_group g(timeout);
        if (never)
            CHECK_FALSE(g.deadline().has_value());
        else
            CHECK(g.deadline().value() <= before);
        std::atomic<int> n{0};
        g.go(count, &n);
        co_await g.wait();
        CHECK(n.load() == 1);
    }
    gorun::task_group forever(std::chrono::hours::max());
    CHECK_FALSE(forever.deadline().has_value());
    CHECK_FALSE(forever.stop_requested());
}

GORUN_TEST_CASE("cancellation flows down into nested groups, never up") {
    std::atomic<int> saw{0};
    gorun::task_group outer;
    outer.go(
        [](std::atomic<int>* s) -> gorun::task<> {
            gorun::task_group inner;
            inner.go(until_cancelled, s);
            inner.go(until_cancelled, s);
            co_await inner.wait();
        },
        &saw);
    outer.cancel();
    co_await outer.wait();
    CHECK(saw.load() == 2);

    // An inner group's failure cancels the inner group only.
    gorun::task_group parent;
    std::atomic<bool> parent_cancelled{true};
    parent.go(
        [](std::atomic<bool>* out) -> gorun::task<> {
            gorun::task_group inner;
            inner.go(fail, std::string("inner"));
            try {
                co_await inner.wait();
            } catch (const std::runtime_error&) {
            }
            out->store(gorun::this_task::stop_requested());
        },
        &parent_cancelled);
    co_await parent.wait();
    CHECK_FALSE(parent_cancelled.load());
}

GORUN_TEST_CASE("a nested group takes the earlier deadline") {
    gorun::task_group outer(std::chrono::hours(1));
    auto outer_deadline = *outer.deadline();
    std::atomic<bool> ok_longer{false}, ok_shorter{false};
    outer.go(
        [](std::chrono::steady_clock::time_point od,
           std::atomic<bool>* longer,
           std::atomic<bool>* shorter) -> gorun::task<> {
            gorun::task_group wider(std::chrono::hours(2));
            longer->store(wider.deadline() == od);  // capped by the enclosing group
            gorun::task_group narrower(1min);
            shorter->store(narrower.deadline() < od);
            co_await wider.wait();
            co_await narrower.wait();
        },
        outer_deadline,
        &ok_longer,
        &ok_shorter);
    co_await outer.wait();
    CHECK(ok_longer.load());
    CHECK(ok_shorter.load());
}

GORUN_TEST_CASE("a group dropped without wait is cancelled; its children finish safely") {
    // The children outlive the group object: they must not touch freed memory (ASan) and must
    // see the cancellation.
    std::atomic<int> saw{0};
    gorun::wait_group done;
    try {
        gorun::task_group g;
        for (int i = 0; i < 8; ++i) {
            done.add(1);
            g.go(
                [](std::atomic<int>* s, gorun::wait_group* d) -> gorun::task<> {
                    co_await until_cancelled(s);
                    CHECK(gorun::this_task::stop_requested());
                    d->done();
                },
                &saw,
                &done);
        }
        throw std::runtime_error("leaving before wait()");
    } catch (const std::runtime_error&) {
    }
    co_await done.wait();
    CHECK(saw.load() == 8);
}

GORUN_TEST_CASE("each child's callable and arguments are destroyed exactly once") {
    static std::atomic<int> live{0};
    struct probe {
        probe() { live.fetch_add(1); }
        probe(const probe&) { live.fetch_add(1); }
        probe(probe&&) noexcept { live.fetch_add(1); }
        ~probe() { live.fetch_sub(1); }
    };
    {
        gorun::task_group g;
        for (int i = 0; i < 100; ++i)
            g.go(
                [p = probe{}](probe) -> gorun::task<> {
                    (void)p;
                    co_await gorun::yield();
                },
                probe{});
        co_await g.wait();
    }
    CHECK(live.load() == 0);
}
