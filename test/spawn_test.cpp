// spawn / join_handle: results, exceptions, detaching, frame ownership.
#include "harness.hpp"

#include <atomic>
#include <stdexcept>
#include <vector>

using namespace std::chrono_literals;

namespace {

struct counted {
    static inline std::atomic<int> alive{0};
    counted() { alive.fetch_add(1); }
    counted(const counted&) { alive.fetch_add(1); }
    counted(counted&&) noexcept { alive.fetch_add(1); }
    ~counted() { alive.fetch_sub(1); }
};

gorun::task<int> square(int x) {
    co_return x* x;
}

gorun::task<int> slow_square(int x) {
    co_await gorun::sleep_for(2ms);
    co_return x* x;
}

gorun::task<int> fails() {
    co_await gorun::yield();
    throw std::logic_error("bad");
}

gorun::task<counted> make_counted() {
    co_await gorun::yield();
    co_return counted{};
}

}  // namespace

GORUN_TEST_CASE("awaiting a join_handle yields the task's result") {
    auto h = gorun::spawn(square, 9);
    CHECK(co_await h == 81);
    auto h2 = gorun::spawn(slow_square, 3);  // still running when awaited
    CHECK(co_await h2 == 9);
}

GORUN_TEST_CASE("a join_handle awaited after the task finished does not suspend") {
    gorun::join_handle<int> h = gorun::spawn(square, 4);
    while (!h.done())
        co_await gorun::yield();
    CHECK(co_await h == 16);
    CHECK_FALSE(h);  // consumed
}

GORUN_TEST_CASE("a task's exception is rethrown by awaiting its join_handle") {
    auto h = gorun::spawn(fails);
    bool caught = false;
    try {
        co_await h;
    } catch (const std::logic_error&) {
        caught = true;
    }
    CHECK(caught);
}

GORUN_TEST_CASE("many spawned tasks are joined with their own results") {
    std::vector<gorun::join_handle<int>> hs;
    for (int i = 0; i < 1000; ++i)
        hs.push_back(gorun::spawn(i % 2 ? square : slow_square, i));
    long sum = 0, expect = 0;
    for (int i = 0; i < 1000; ++i) {
        sum += co_await hs[static_cast<std::size_t>(i)];
        expect += i * i;
    }
    CHECK(sum == expect);
}

GORUN_TEST_CASE("detached and dropped handles free the task's frame and result exactly once") {
    CHECK(counted::alive.load() == 0);
    {
        auto h = gorun::spawn(make_counted);  // dropped while (likely) running
    }
    auto h2 = gorun::spawn(make_counted);
    while (!h2.done())
        co_await gorun::yield();
    h2.detach();  // detached after finishing: frees the frame and its result now
    gorun::wait_group wg;
    wg.add(1);
    // Give the dropped task time to finish through the scheduler, without sleeping.
    gorun::go([&wg]() -> gorun::task<> {
        for (int i = 0; i < 100; ++i)
            co_await gorun::yield();
        wg.done();
    });
    co_await wg.wait();
    CHECK(counted::alive.load() == 0);
}

GORUN_TEST_CASE("a join_handle can be moved between containers and still joined") {
    std::vector<gorun::join_handle<int>> a, b;
    for (int i = 0; i < 10; ++i)
        a.push_back(gorun::spawn(slow_square, i));
    for (auto& h : a)
        b.push_back(std::move(h));
    int sum = 0;
    for (auto& h : b)
        sum += co_await h;
    CHECK(sum == 285);
}
