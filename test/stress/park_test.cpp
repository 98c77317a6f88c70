// Park/unpark storms (SCHED-2): with spinning off, workers park whenever they run dry, so
// every hand-off below races a worker deciding to park. A lost wake-up shows as a stall,
// which the watchdog turns into a failure with the scheduler state.
#include "harness.hpp"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

std::uint64_t cycles(std::uint64_t base) {
    std::uint64_t n = base * gorun::test::stress_scale();
    return gorun::test::sanitized() ? n / 10 : n;
}

gorun::runtime_options no_spin(unsigned workers) {
    gorun::runtime_options o;
    o.workers = workers;
    o.spin = 0us;
    return o;
}

}  // namespace

TEST_CASE("SCHED-2: foreign threads posting one task at a time never lose a wake-up") {
    gorun::test::watchdog dog;
    for (unsigned workers : {1u, 2u, 4u}) {
        gorun::runtime rt(no_spin(workers));
        const std::uint64_t per_thread = cycles(25'000);
        std::vector<std::thread> posters;
        std::atomic<std::uint64_t> done{0};
        for (int p = 0; p < 2; ++p)
            posters.emplace_back([&] {
                std::mutex mu;
                std::condition_variable cv;
                bool flag = false;
                for (std::uint64_t i = 0; i < per_thread; ++i) {
                    flag = false;
                    rt.post([&]() -> gorun::task<> {
                        std::lock_guard lock(mu);
                        flag = true;
                        cv.notify_one();
                        co_return;
                    });
                    std::unique_lock lock(mu);
                    cv.wait(lock, [&] { return flag; });
                    done.fetch_add(1, std::memory_order_relaxed);
                }
            });
        for (auto& t : posters)
            t.join();
        CHECK(done.load() == 2 * per_thread);
    }
}

namespace {

gorun::task<> ping(int rounds, std::atomic<std::uint64_t>* count) {
    for (int i = 0; i < rounds; ++i) {
        // Through the global queue: another worker (possibly parked) may have to take it.
        co_await gorun::yield();
        count->fetch_add(1, std::memory_order_relaxed);
    }
}

gorun::task<> short_sleeps(std::uint64_t seed, int rounds, std::atomic<std::uint64_t>* count) {
    std::minstd_rand rng(static_cast<unsigned>(seed));
    for (int i = 0; i < rounds; ++i) {
        co_await gorun::sleep_for(std::chrono::microseconds(rng() % 200));
        count->fetch_add(1, std::memory_order_relaxed);
    }
}

gorun::task<> fork_join_rounds(int rounds, std::atomic<std::uint64_t>* count) {
    for (int i = 0; i < rounds; ++i) {
        auto a = gorun::spawn(ping, 2, count);
        auto b = gorun::spawn(ping, 2, count);
        co_await a;
        co_await b;
    }
}

}  // namespace

TEST_CASE("SCHED-2: workers parking and unparking through yields, timers and joins never stall") {
    gorun::test::watchdog dog;
    for (unsigned workers : {2u, 4u}) {
        std::atomic<std::uint64_t> count{0};
        const int rounds = static_cast<int>(cycles(20'000));
        gorun::run(
            [](int r, std::atomic<std::uint64_t>* c) -> gorun::task<> {
                gorun::wait_group wg;
                wg.go(ping, r, c);
                wg.go(ping, r, c);
                wg.go(short_sleeps, 1, r / 10, c);
                wg.go(short_sleeps, 2, r / 10, c);
                wg.go(fork_join_rounds, r / 4, c);
                co_await wg.wait();
            }(rounds, &count),
            no_spin(workers));
        CHECK(count.load() == 2u * rounds + 2u * (rounds / 10) + 4u * (rounds / 4));
    }
}
