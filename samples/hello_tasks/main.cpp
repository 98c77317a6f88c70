// hello_tasks: tasks, go, spawn, a wait_group, sleeps and a channel pipeline, spread over the
// workers.
#include <gorun/gorun.hpp>

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

using namespace std::chrono_literals;

namespace {

std::atomic<int> finished{0};

gorun::task<int> square(int x) {
    co_await gorun::sleep_for(1ms);
    co_return x* x;
}

gorun::task<> sleeper(int i, std::chrono::milliseconds d) {
    gorun::this_task::set_name("sleeper");
    co_await gorun::sleep_for(d);
    fmt::print(
        "  task {:>3} (#{}) woke after {:>3} ms on thread {}\n",
        i,
        gorun::this_task::id(),
        d.count(),
        std::hash<std::thread::id>{}(std::this_thread::get_id()) % 1000);
    finished.fetch_add(1, std::memory_order_relaxed);
}

gorun::task<int> main_task() {
    fmt::print("gorun hello: 8 sleepers started with wait_group::go\n");
    gorun::wait_group wg;
    for (int i = 0; i < 8; ++i)
        wg.go(sleeper, i, std::chrono::milliseconds(10 * (8 - i)));
    co_await wg.wait();

    // spawn returns a join handle; awaiting it gives the task's result.
    auto a = gorun::spawn(square, 7);
    auto b = gorun::spawn(square, 8);
    int sum = co_await a + co_await b;
    fmt::print("spawned squares: 7*7 + 8*8 = {}\n", sum);

    // go with a capturing lambda: the lambda is moved into the new task's frame.
    gorun::wait_group wg2;
    std::atomic<int> total{0};
    for (int i = 1; i <= 100; ++i)
        wg2.go([i, &total]() -> gorun::task<> {
            co_await gorun::yield();
            total.fetch_add(i, std::memory_order_relaxed);
        });
    co_await wg2.wait();
    fmt::print("100 tasks summed 1..100 = {}\n", total.load());
    // A channel pipeline: numbers -> squares, closed at the end, drained with recv.
    gorun::channel<int> numbers(8), squares(8);
    gorun::go(
        [](gorun::channel<int> out) -> gorun::task<> {
            for (int i = 1; i <= 10; ++i)
                co_await out.send(i);
            out.close();
        },
        numbers);
    gorun::go(
        [](gorun::channel<int> in, gorun::channel<int> out) -> gorun::task<> {
            while (auto v = co_await in.recv())
                co_await out.send(*v * *v);
            out.close();
        },
        numbers,
        squares);
    int sum_sq = 0;
    while (auto v = co_await squares.recv())
        sum_sq += *v;
    fmt::print("channel pipeline: sum of squares 1..10 = {}\n", sum_sq);

    co_return (finished.load() == 8 && sum == 113 && total.load() == 5050 && sum_sq == 385) ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    bool test_mode = argc > 1 && std::strcmp(argv[1], "--test") == 0;
    int rc = gorun::run(main_task());
    fmt::print("{}\n", rc == 0 ? "ok" : "FAILED");
    (void)test_mode;  // the demo always exits by itself
    return rc;
}
