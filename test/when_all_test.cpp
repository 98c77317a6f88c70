// when_all: every task runs concurrently in a scope; results in order; the first exception
// cancels the siblings and is rethrown only after all have finished.
#include "harness.hpp"

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

gorun::task<int> value(int v) {
    co_await gorun::yield();
    co_return v;
}
gorun::task<std::string> text(std::string s) {
    co_return s;
}
gorun::task<> nothing(std::atomic<int>* ran) {
    ran->fetch_add(1);
    co_return;
}
gorun::task<std::unique_ptr<int>> boxed(int v) {
    co_return std::make_unique<int>(v);
}

// Waits until its scope is cancelled (never returns otherwise), then records that.
gorun::task<int> until_cancelled(std::atomic<int>* saw_cancel) {
    gorun::channel<int> never;  // nil: blocks forever
    auto r = co_await gorun::select(gorun::recv(never), gorun::cancelled());
    if (r.index == 1 && gorun::this_task::stop_requested())
        saw_cancel->fetch_add(1);
    co_return -1;
}
gorun::task<int> fail_with(const char* what) {
    co_await gorun::yield();
    throw std::runtime_error(what);
}
gorun::task<int> fail_after_cancel(const char* what) {
    gorun::channel<int> never;
    co_await gorun::select(gorun::recv(never), gorun::cancelled());
    throw std::runtime_error(what);
}

}  // namespace

GORUN_TEST_CASE("when_all returns every result in argument order, void as monostate") {
    std::atomic<int> ran{0};
    auto [a, b, c, d] = co_await gorun::when_all(value(1), text("two"), nothing(&ran), boxed(4));
    CHECK(a == 1);
    CHECK(b == "two");
    CHECK(std::is_same_v<decltype(c), std::monostate>);
    CHECK(ran.load() == 1);
    REQUIRE(d);
    CHECK(*d == 4);
}

GORUN_TEST_CASE("when_all runs its tasks concurrently: two that must meet on a channel do") {
    // Run one after the other, the sender would block forever on the unbuffered channel.
    gorun::channel<int> ch(0);
    auto sender = [](gorun::channel<int> c) -> gorun::task<> {
        co_await c.send(42);
    };
    auto receiver = [](gorun::channel<int> c) -> gorun::task<int> {
        co_return *co_await c.recv();
    };
    auto [s, r] = co_await gorun::when_all(sender(ch), receiver(ch));
    (void)s;
    CHECK(r == 42);
}

GORUN_TEST_CASE("when_all over a vector keeps the order; an empty vector gives an empty result") {
    std::vector<gorun::task<int>> jobs;
    for (int i = 0; i < 500; ++i)
        jobs.push_back(value(i * i));
    std::vector<int> out = co_await gorun::when_all(std::move(jobs));
    REQUIRE(out.size() == 500);
    bool in_order = true;
    for (int i = 0; i < 500; ++i)
        in_order = in_order && out[static_cast<std::size_t>(i)] == i * i;
    CHECK(in_order);
    std::vector<int> none = co_await gorun::when_all(std::vector<gorun::task<int>>{});
    CHECK(none.empty());
}

GORUN_TEST_CASE("the first exception cancels the siblings, and is rethrown after they finish") {
    std::atomic<int> saw_cancel{0};
    std::string caught;
    try {
        co_await gorun::when_all(
            until_cancelled(&saw_cancel),
            fail_with("first"),
            fail_after_cancel("second, dropped"),
            until_cancelled(&saw_cancel));
    } catch (const std::runtime_error& e) {
        caught = e.what();
    }
    CHECK(caught == "first");
    CHECK(saw_cancel.load() == 2);  // both had finished before when_all threw
}

GORUN_TEST_CASE("when_all's tasks inherit the caller's cancellation") {
    std::atomic<int> saw_cancel{0};
    gorun::task_group g;
    g.go(
        [](std::atomic<int>* n) -> gorun::task<> {
            co_await gorun::when_all(until_cancelled(n), until_cancelled(n));
        },
        &saw_cancel);
    g.cancel();
    co_await g.wait();
    CHECK(saw_cancel.load() == 2);
}

GORUN_TEST_CASE("a task of when_all sees a scope token; a task it starts with go sees none") {
    auto probe = []() -> gorun::task<bool> {
        bool inner_has_token = true;
        gorun::wait_group wg;
        wg.go(
            [](bool* out) -> gorun::task<> {
                *out = gorun::this_task::stop_token().stop_possible();
                co_return;
            },
            &inner_has_token);
        co_await wg.wait();
        co_return gorun::this_task::stop_token().stop_possible() && !inner_has_token;
    };
    auto [ok] = co_await gorun::when_all(probe());
    CHECK(ok);
    CHECK_FALSE(gorun::this_task::stop_token().stop_possible());  // the test body: no scope
    CHECK_FALSE(gorun::this_task::deadline().has_value());
}
