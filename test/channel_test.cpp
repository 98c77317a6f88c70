// channel<T>: Go's channel semantics (CH-1, CH-3, CH-4).
#include <gorun/channel.hpp>

#include "harness.hpp"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

gorun::task<> produce(gorun::channel<int> out, int n, bool close_after) {
    for (int i = 0; i < n; ++i)
        co_await out.send(i);
    if (close_after)
        out.close();
}

struct counted {
    static inline std::atomic<int> alive{0};
    int v = 0;
    explicit counted(int x)
        : v(x) {
        alive.fetch_add(1);
    }
    counted(counted&& o) noexcept
        : v(o.v) {
        alive.fetch_add(1);
    }
    counted(const counted&) = delete;
    ~counted() { alive.fetch_sub(1); }
};

}  // namespace

GORUN_TEST_CASE("an unbuffered channel hands every value over in order") {
    gorun::channel<int> ch(0);
    gorun::go(produce, ch, 1000, true);
    int expect = 0;
    while (auto v = co_await ch.recv()) {
        CHECK(*v == expect);
        ++expect;
    }
    CHECK(expect == 1000);
}

GORUN_TEST_CASE("a buffered channel holds up to its capacity without a receiver") {
    gorun::channel<int> ch(3);
    CHECK(ch.capacity() == 3);
    co_await ch.send(1);
    co_await ch.send(2);
    co_await ch.send(3);
    CHECK(ch.size() == 3);
    CHECK_FALSE(ch.try_send(4));  // full: would block
    CHECK((co_await ch.recv()).value() == 1);
    CHECK(ch.try_send(4));
    CHECK((co_await ch.recv()).value() == 2);
    CHECK((co_await ch.recv()).value() == 3);
    CHECK((co_await ch.recv()).value() == 4);
    CHECK(ch.size() == 0);
}

GORUN_TEST_CASE("CH-4: recv on a closed channel drains the buffer in order, then reports closed") {
    gorun::channel<int> ch(4);
    co_await ch.send(10);
    co_await ch.send(11);
    ch.close();
    CHECK((co_await ch.recv()).value() == 10);
    CHECK((co_await ch.recv()).value() == 11);
    for (int i = 0; i < 3; ++i)
        CHECK_FALSE((co_await ch.recv()).has_value());
    auto r = ch.try_recv();
    CHECK(r.status == gorun::recv_status::closed);
}

GORUN_TEST_CASE("CH-4: send on a closed channel throws channel_closed, and so does closing twice") {
    gorun::channel<int> ch(1);
    ch.close();
    bool threw = false;
    try {
        co_await ch.send(1);
    } catch (const gorun::channel_closed&) {
        threw = true;
    }
    CHECK(threw);
    CHECK_THROWS_AS(ch.try_send(1), gorun::channel_closed);
    CHECK_THROWS_AS(ch.close(), gorun::channel_closed);
    gorun::channel<int> nil;
    CHECK_THROWS_AS(nil.close(), gorun::channel_closed);
}

namespace {
gorun::task<>
blocked_receiver(gorun::channel<int> ch, std::atomic<int>* closed_seen, gorun::wait_group* wg) {
    auto v = co_await ch.recv();
    if (!v)
        closed_seen->fetch_add(1);
    wg->done();
}
gorun::task<>
blocked_sender(gorun::channel<int> ch, std::atomic<int>* threw, gorun::wait_group* wg) {
    try {
        co_await ch.send(7);
    } catch (const gorun::channel_closed&) {
        threw->fetch_add(1);
    }
    wg->done();
}
}  // namespace

GORUN_TEST_CASE("CH-4: close wakes every blocked receiver and sender") {
    gorun::channel<int> rch(0), sch(0);
    std::atomic<int> closed_seen{0}, threw{0};
    gorun::wait_group wg;
    wg.add(20);
    for (int i = 0; i < 10; ++i) {
        gorun::go(blocked_receiver, rch, &closed_seen, &wg);
        gorun::go(blocked_sender, sch, &threw, &wg);
    }
    // Let them block (each has to reach its queue); a yield loop, not a sleep.
    for (int i = 0; i < 200; ++i)
        co_await gorun::yield();
    rch.close();
    sch.close();
    co_await wg.wait();
    CHECK(closed_seen.load() == 10);
    CHECK(threw.load() == 10);
}

GORUN_TEST_CASE("try_recv reports empty, ok and closed") {
    gorun::channel<std::string> ch(1);
    CHECK(ch.try_recv().status == gorun::recv_status::empty);
    CHECK(ch.try_send(std::string("x")));
    auto r = ch.try_recv();
    REQUIRE(r);
    CHECK(*r == "x");
    ch.close();
    CHECK(ch.try_recv().status == gorun::recv_status::closed);
    co_return;
}

GORUN_TEST_CASE("a failed try_send leaves the value with the caller") {
    gorun::channel<std::unique_ptr<int>> ch(0);  // no receiver: every try_send fails
    auto p = std::make_unique<int>(5);
    CHECK_FALSE(ch.try_send(std::move(p)));
    REQUIRE(p);
    CHECK(*p == 5);
    co_return;
}

GORUN_TEST_CASE("CH-3: move-only values are received once and buffered ones die with the channel") {
    CHECK(counted::alive.load() == 0);
    {
        gorun::channel<counted> ch(8);
        for (int i = 0; i < 5; ++i)
            co_await ch.send(counted(i));
        auto v = co_await ch.recv();
        CHECK(v->v == 0);
        CHECK(counted::alive.load() == 5);  // 4 buffered + the one we hold
    }
    CHECK(counted::alive.load() == 0);  // the 4 still buffered were destroyed with the channel
}

namespace {
gorun::task<> sum_worker(
    gorun::channel<int> in, std::atomic<long>* sum, std::atomic<int>* n, gorun::wait_group* wg) {
    while (auto v = co_await in.recv()) {
        sum->fetch_add(*v);
        n->fetch_add(1);
    }
    wg->done();
}
gorun::task<> multi_producer(gorun::channel<int> out, int from, int count, gorun::wait_group* wg) {
    for (int i = from; i < from + count; ++i)
        co_await out.send(i);
    wg->done();
}
}  // namespace

GORUN_TEST_CASE("CH-3: many producers and consumers: every value received exactly once") {
    for (std::size_t cap : {0u, 1u, 64u}) {
        gorun::channel<int> ch(cap);
        std::atomic<long> sum{0};
        std::atomic<int> n{0};
        gorun::wait_group producers, consumers;
        consumers.add(4);
        for (int c = 0; c < 4; ++c)
            gorun::go(sum_worker, ch, &sum, &n, &consumers);
        producers.add(4);
        for (int p = 0; p < 4; ++p)
            gorun::go(multi_producer, ch, p * 10'000, 10'000, &producers);
        co_await producers.wait();
        ch.close();
        co_await consumers.wait();
        CHECK(n.load() == 40'000);
        CHECK(sum.load() == 40'000L * 39'999 / 2);
    }
}

TEST_CASE("plain threads feed and drain a channel with blocking_send and blocking_recv") {
    gorun::test::watchdog dog;
    gorun::channel<int> in(0), out(16);
    gorun::runtime_options opts;
    opts.workers = 2;
    gorun::runtime rt(opts);
    rt.post(
        [](gorun::channel<int> i, gorun::channel<int> o) -> gorun::task<> {
            while (auto v = co_await i.recv())
                co_await o.send(*v * 2);
            o.close();
        },
        in,
        out);
    std::thread feeder([in]() mutable {
        for (int k = 0; k < 1000; ++k)
            in.blocking_send(k);
        in.close();
    });
    long sum = 0;
    int count = 0;
    while (auto v = out.blocking_recv()) {
        sum += *v;
        ++count;
    }
    feeder.join();
    CHECK(count == 1000);
    CHECK(sum == 2L * 999 * 1000 / 2);
}

GORUN_TEST_CASE("a task blocked on a nil channel stays blocked and is destroyed at shutdown") {
    std::atomic<bool> passed{false};
    gorun::go([&passed]() -> gorun::task<> {
        gorun::channel<int> nil;
        co_await nil.recv();
        passed = true;
    });
    for (int i = 0; i < 100; ++i)
        co_await gorun::yield();
    CHECK_FALSE(passed.load());
}
