// wait_group: Go's sync.WaitGroup.
#include "harness.hpp"

#include <atomic>
#include <stdexcept>

using namespace std::chrono_literals;

namespace {
gorun::task<> work(std::atomic<int>* n) {
    co_await gorun::yield();
    n->fetch_add(1);
}
gorun::task<> waiter(gorun::wait_group* wg, std::atomic<int>* woken, gorun::wait_group* out) {
    co_await wg->wait();
    woken->fetch_add(1);
    out->done();
}
}  // namespace

GORUN_TEST_CASE("wait returns at once on a zero counter") {
    gorun::wait_group wg;
    co_await wg.wait();
    CHECK(wg.count() == 0);
}

GORUN_TEST_CASE("wait returns only after every task started with wg.go has finished") {
    std::atomic<int> n{0};
    gorun::wait_group wg;
    for (int i = 0; i < 1000; ++i)
        wg.go(work, &n);
    co_await wg.wait();
    CHECK(n.load() == 1000);
    CHECK(wg.count() == 0);
}

GORUN_TEST_CASE("every waiter is woken when the counter reaches zero, and the group is reusable") {
    for (int round = 0; round < 3; ++round) {
        gorun::wait_group gate, all_woken;
        std::atomic<int> woken{0};
        gate.add(1);
        all_woken.add(10);
        for (int i = 0; i < 10; ++i)
            gorun::go(waiter, &gate, &woken, &all_woken);
        for (int i = 0; i < 20; ++i)
            co_await gorun::yield();
        CHECK(woken.load() == 0);  // nobody passes a non-zero counter
        gate.done();
        co_await all_woken.wait();
        CHECK(woken.load() == 10);
    }
}

GORUN_TEST_CASE("a wait_group in the waiter's frame may be destroyed as soon as wait returns") {
    // The done() that reaches zero races with the waiter returning and destroying the group;
    // ASan/TSan would flag any touch of the group after the waiter could see zero.
    for (int i = 0; i < 2000; ++i) {
        gorun::wait_group wg;
        wg.add(1);
        gorun::go(
            [](gorun::wait_group* g) -> gorun::task<> {
                g->done();
                co_return;
            },
            &wg);
        co_await wg.wait();
    }
}

namespace {
// An argument whose copy throws: wg.go copies its arguments into the new task's frame.
struct throws_on_copy {
    throws_on_copy() = default;
    throws_on_copy(const throws_on_copy&) { throw std::runtime_error("copy"); }
};
gorun::task<> takes(throws_on_copy) {
    co_return;
}
}  // namespace

GORUN_TEST_CASE("a wg.go that throws before starting its task leaves the counter as it was") {
    // go() counted the task with add(1) before making its frame; when making it threw, the
    // count stayed at 1 and every later wait() hung.
    gorun::wait_group wg;
    throws_on_copy arg;
    CHECK_THROWS_AS(wg.go(takes, arg), std::runtime_error);
    CHECK(wg.count() == 0);
    if (wg.count() == 0)
        co_await wg.wait();  // only when it cannot hang: the failure is reported above
}
