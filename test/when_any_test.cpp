// when_any: the first task to finish wins; the others are cancelled and awaited.
#include "harness.hpp"

#include <atomic>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

gorun::task<int> now(int v) {
    co_return v;
}
// Finishes only once its scope is cancelled; counts that it did.
gorun::task<std::string> loser(std::atomic<int>* finished) {
    gorun::channel<int> never;
    co_await gorun::select(gorun::recv(never), gorun::cancelled());
    finished->fetch_add(1);
    co_return "loser";
}
gorun::task<int> throw_now(const char* what) {
    throw std::runtime_error(what);
    co_return 0;
}
gorun::task<int> throw_when_cancelled(std::atomic<int>* finished) {
    gorun::channel<int> never;
    co_await gorun::select(gorun::recv(never), gorun::cancelled());
    finished->fetch_add(1);
    throw std::runtime_error("a loser's error is dropped");
}

}  // namespace

GORUN_TEST_CASE("when_any returns the first to finish and waits for the cancelled losers") {
    std::atomic<int> finished{0};
    auto r = co_await gorun::when_any(loser(&finished), now(7), loser(&finished));
    CHECK(r.index == 1);
    REQUIRE(r.value.index() == 1);
    CHECK(std::get<1>(r.value) == 7);
    CHECK(finished.load() == 2);  // both losers had finished before when_any returned
}

GORUN_TEST_CASE("a winner's exception is rethrown; a loser's is dropped") {
    std::atomic<int> finished{0};
    std::string caught;
    try {
        co_await gorun::when_any(throw_when_cancelled(&finished), throw_now("winner"));
    } catch (const std::runtime_error& e) {
        caught = e.what();
    }
    CHECK(caught == "winner");
    CHECK(finished.load() == 1);

    auto r = co_await gorun::when_any(throw_when_cancelled(&finished), now(3));
    CHECK(r.index == 1);
    CHECK(finished.load() == 2);
}

GORUN_TEST_CASE("exactly one winner when every task finishes at once") {
    for (int round = 0; round < 300; ++round) {
        std::vector<gorun::task<int>> ts;
        for (int i = 0; i < 8; ++i)
            ts.push_back(now(i * 10));
        auto [index, v] = co_await gorun::when_any(std::move(ts));
        REQUIRE(index < 8);
        REQUIRE(v == static_cast<int>(index) * 10);  // the value is the winner's own
    }
}

GORUN_TEST_CASE("when_any over void tasks, and over an empty vector") {
    auto quick = []() -> gorun::task<> {
        co_return;
    };
    std::vector<gorun::task<>> ts;
    ts.push_back(quick());
    auto [index, v] = co_await gorun::when_any(std::move(ts));
    CHECK(index == 0);
    (void)v;
    bool threw = false;
    try {
        co_await gorun::when_any(std::vector<gorun::task<int>>{});
    } catch (const std::invalid_argument&) {
        threw = true;
    }
    CHECK(threw);
}

GORUN_TEST_CASE("a when_any racing a timeout: the work loses and is cancelled") {
    // The hedged-request shape: whichever first, the work or the clock.
    std::atomic<int> finished{0};
    auto timeout = []() -> gorun::task<int> {
        co_await gorun::sleep_for(std::chrono::milliseconds(1));
        co_return -1;
    };
    auto r = co_await gorun::when_any(loser(&finished), timeout());
    CHECK(r.index == 1);
    CHECK(finished.load() == 1);
}
