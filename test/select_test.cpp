// select: one case commits (SEL-1), uniform choice and default only when nothing is ready
// (SEL-2), nil cases, closed channels.
#include <gorun/select.hpp>

#include "harness.hpp"

#include <atomic>
#include <cmath>
#include <stop_token>
#include <vector>

namespace {
gorun::task<> send_n(gorun::channel<int> ch, int from, int n) {
    for (int i = from; i < from + n; ++i)
        co_await ch.send(i);
}
}  // namespace

GORUN_TEST_CASE("select receives from whichever channel has a value") {
    gorun::channel<int> a(1), b(1);
    co_await b.send(7);
    auto r = co_await gorun::select(gorun::recv(a), gorun::recv(b));
    CHECK(r.index == 1);
    CHECK(r.get<1>().value() == 7);
}

GORUN_TEST_CASE("SEL-2: default runs only when no case is ready") {
    gorun::channel<int> a(1);
    auto r1 = co_await gorun::select(gorun::recv(a), gorun::default_case);
    CHECK(r1.index == 1);
    co_await a.send(3);
    auto r2 = co_await gorun::select(gorun::recv(a), gorun::default_case);
    CHECK(r2.index == 0);
    CHECK(r2.get<0>().value() == 3);
}

GORUN_TEST_CASE("a select blocks until a sender arrives, then takes exactly its value") {
    gorun::channel<int> a(0), b(0);
    gorun::go(send_n, b, 100, 1);
    auto r = co_await gorun::select(gorun::recv(a), gorun::recv(b));
    CHECK(r.index == 1);
    CHECK(r.get<1>().value() == 100);
    CHECK(a.try_recv().status == gorun::recv_status::empty);
}

GORUN_TEST_CASE("a send case delivers to a waiting receiver") {
    gorun::channel<int> a(0);
    std::atomic<int> got{-1};
    gorun::wait_group wg;
    wg.add(1);
    gorun::go([&]() -> gorun::task<> {
        got = (co_await a.recv()).value();
        wg.done();
    });
    gorun::channel<int> never(0);
    auto r = co_await gorun::select(gorun::recv(never), gorun::send(a, 55));
    CHECK(r.index == 1);
    co_await wg.wait();
    CHECK(got.load() == 55);
}

GORUN_TEST_CASE("a recv case on a closed channel fires with nullopt; a send case throws") {
    gorun::channel<int> a(0), b(0);
    a.close();
    auto r = co_await gorun::select(gorun::recv(a), gorun::recv(b));
    CHECK(r.index == 0);
    CHECK_FALSE(r.get<0>().has_value());
    bool threw = false;
    try {
        co_await gorun::select(gorun::send(a, 1), gorun::recv(b));
    } catch (const gorun::channel_closed&) {
        threw = true;
    }
    CHECK(threw);
}

GORUN_TEST_CASE("nil channel cases are never chosen") {
    gorun::channel<int> nil, ready(1);
    co_await ready.send(1);
    for (int i = 0; i < 100; ++i) {
        auto r = co_await gorun::select(gorun::recv(nil), gorun::default_case);
        CHECK(r.index == 1);
    }
    auto r = co_await gorun::select(gorun::recv(nil), gorun::send(nil, 5), gorun::recv(ready));
    CHECK(r.index == 2);
}

namespace {
// Counts how often each of k always-ready channels is chosen.
gorun::task<> fairness(std::size_t k) {
    constexpr int n = 100'000;
    std::vector<gorun::channel<int>> chans;
    for (std::size_t i = 0; i < k; ++i)
        chans.emplace_back(1);
    std::vector<int> hits(k, 0);
    for (auto& c : chans)
        co_await c.send(0);
    for (int i = 0; i < n; ++i) {
        int idx;
        if (k == 2) {
            idx = (co_await gorun::select(gorun::recv(chans[0]), gorun::recv(chans[1]))).index;
        } else {
            idx = (co_await gorun::select(
                       gorun::recv(chans[0]),
                       gorun::recv(chans[1]),
                       gorun::recv(chans[2]),
                       gorun::recv(chans[3])))
                      .index;
        }
        ++hits[static_cast<std::size_t>(idx)];
        co_await chans[static_cast<std::size_t>(idx)].send(0);  // keep every case ready
    }
    double p = 1.0 / static_cast<double>(k);
    double mean = n * p, sigma = std::sqrt(n * p * (1 - p));
    for (int h : hits) {
        CAPTURE(h);
        CHECK(std::abs(h - mean) <= 6 * sigma);
    }
}
}  // namespace

GORUN_TEST_CASE_WITH(
    "SEL-2: over 2 and 4 ready channels each case wins within 6 sigma of n/k", {1u, 2u}) {
    co_await fairness(2);
    co_await fairness(4);
}

GORUN_TEST_CASE("the same channel may appear in several cases") {
    gorun::channel<int> a(1);
    co_await a.send(9);
    auto r = co_await gorun::select(gorun::recv(a), gorun::recv(a), gorun::send(a, 1));
    // The buffer held one value and had no room: only the recv cases were ready.
    CHECK((r.index == 0 || r.index == 1));
    CHECK(a.size() == 0);
}

namespace {
// SEL-1 under contention: selectors racing for values from senders; every value must be
// received exactly once, none lost to a losing case.
gorun::task<> selector(
    gorun::channel<int> a,
    gorun::channel<int> b,
    gorun::channel<int> done,
    std::atomic<long>* sum,
    std::atomic<int>* n) {
    for (;;) {
        auto r = co_await gorun::select(gorun::recv(a), gorun::recv(b), gorun::recv(done));
        if (r.index == 2)
            co_return;
        int v = r.index == 0 ? *r.get<0>() : *r.get<1>();
        sum->fetch_add(v);
        n->fetch_add(1);
    }
}
}  // namespace

GORUN_TEST_CASE("SEL-1: competing selects take every value exactly once") {
    for (std::size_t cap : {0u, 1u, 16u}) {
        gorun::channel<int> a(cap), b(cap), done(0);
        std::atomic<long> sum{0};
        std::atomic<int> n{0};
        gorun::wait_group selectors, senders;
        for (int i = 0; i < 4; ++i)
            selectors.go(selector, a, b, done, &sum, &n);
        senders.go(send_n, a, 0, 5000);
        senders.go(send_n, b, 5000, 5000);
        co_await senders.wait();
        while (n.load() < 10'000)
            co_await gorun::yield();
        done.close();
        co_await selectors.wait();
        CHECK(n.load() == 10'000);
        CHECK(sum.load() == 10'000L * 9'999 / 2);
    }
}

GORUN_TEST_CASE("a select with only nil cases and no default blocks forever") {
    std::atomic<bool> passed{false};
    gorun::go([&passed]() -> gorun::task<> {
        gorun::channel<int> nil;
        co_await gorun::select(gorun::recv(nil));
        passed = true;
    });
    for (int i = 0; i < 100; ++i)
        co_await gorun::yield();
    CHECK_FALSE(passed.load());
}

GORUN_TEST_CASE("a select result owns its value after the select expression has ended") {
    // Regression: results once pointed into the awaiter, a temporary of the co_await
    // expression whose storage the next select reuses.
    gorun::channel<int> a(1), b(1);
    co_await a.send(7);
    auto r1 = co_await gorun::select(gorun::recv(a), gorun::recv(b));
    co_await b.send(8);
    auto r2 = co_await gorun::select(gorun::recv(a), gorun::recv(b));
    CHECK(r1.index == 0);
    CHECK(r1.get<0>().value() == 7);
    CHECK(r2.index == 1);
    CHECK(r2.get<1>().value() == 8);
}

// ---- timer and cancellation cases ----

using namespace std::chrono_literals;

GORUN_TEST_CASE("after fires when no channel case becomes ready") {
    gorun::channel<int> never(0);
    auto t0 = gorun::clock::now();
    auto r = co_await gorun::select(gorun::recv(never), gorun::after(5ms));
    CHECK(r.index == 1);
    CHECK(gorun::clock::now() - t0 >= 5ms);
    auto r2 = co_await gorun::select(gorun::recv(never), gorun::until(gorun::clock::now()));
    CHECK(r2.index == 1);  // a deadline already passed is ready at once
}

GORUN_TEST_CASE("recv_for returns the value, closed, or timeout") {
    gorun::channel<int> ch(1);
    auto t1 = co_await gorun::recv_for(ch, 2ms);
    CHECK(t1.status == gorun::recv_status::timeout);
    co_await ch.send(4);
    auto t2 = co_await gorun::recv_for(ch, 1h);
    CHECK(t2.status == gorun::recv_status::ok);
    CHECK(*t2 == 4);
    ch.close();
    auto t3 = co_await gorun::recv_for(ch, 1h);
    CHECK(t3.status == gorun::recv_status::closed);
}

GORUN_TEST_CASE("after() with a huge duration saturates: it never fires before a parked value") {
    // now + nanoseconds::max() overflowed into a deadline in the past (the case was ready at
    // once), and hours::max() overflowed inside duration_cast (UBSan: signed overflow). The
    // sender runs only after the select has parked, so a saturated timer can never win.
    gorun::channel<int> ch(0);
    auto send_later = [](gorun::channel<int> c) -> gorun::task<> {
        co_await gorun::yield();
        co_await c.send(1);
    };
    gorun::go(send_later, ch);
    auto r1 =
        co_await gorun::select(gorun::recv(ch), gorun::after(std::chrono::nanoseconds::max()));
    CHECK(r1.index == 0);
    gorun::go(send_later, ch);
    auto r2 = co_await gorun::select(gorun::recv(ch), gorun::after(std::chrono::hours::max()));
    CHECK(r2.index == 0);
    gorun::go(send_later, ch);
    auto r3 = co_await gorun::recv_for(ch, std::chrono::duration<double>(1e300));
    CHECK(r3.status == gorun::recv_status::ok);
    // The other end of the range still means "already passed", without overflowing.
    gorun::channel<int> never(0);
    auto r4 = co_await gorun::select(gorun::recv(never), gorun::after(std::chrono::hours::min()));
    CHECK(r4.index == 1);
    auto r5 =
        co_await gorun::select(gorun::recv(never), gorun::after(std::chrono::nanoseconds::min()));
    CHECK(r5.index == 1);
}

namespace {
struct tracked {
    static inline std::atomic<int> alive{0};
    tracked() { alive.fetch_add(1); }
    tracked(tracked&&) noexcept { alive.fetch_add(1); }
    ~tracked() { alive.fetch_sub(1); }
};
}  // namespace

GORUN_TEST_CASE("a send_for that times out destroys its value and delivers nothing") {
    {
        gorun::channel<tracked> ch(0);
        bool sent = co_await gorun::send_for(ch, tracked{}, 2ms);
        CHECK_FALSE(sent);
        CHECK(ch.try_recv().status == gorun::recv_status::empty);
    }
    CHECK(tracked::alive.load() == 0);
}

GORUN_TEST_CASE("a value arriving before the deadline wins and the withdrawn timers are purged") {
    // Every select parks (the sender runs after it) and arms a one-hour timer; the timers
    // withdrawn from (possibly) other workers must not pile up in the heaps forever.
    gorun::channel<int> ch(0);
    constexpr int rounds = 3000;
    for (int i = 0; i < rounds; ++i) {
        gorun::go(
            [](gorun::channel<int> c, int v) -> gorun::task<> {
                co_await gorun::yield();
                co_await c.send(v);
            },
            ch,
            i);
        auto r = co_await gorun::recv_for(ch, 1h);
        REQUIRE(r.status == gorun::recv_status::ok);
        CHECK(*r == i);
    }
    CHECK(gorun::metrics().timers_pending < rounds / 2);
}

GORUN_TEST_CASE("cancelled(token) wakes a blocked select when stop is requested") {
    std::stop_source stop;
    gorun::channel<int> never(0);
    gorun::go(
        [](std::stop_source s) -> gorun::task<> {
            co_await gorun::yield();
            s.request_stop();
        },
        stop);
    auto r = co_await gorun::select(gorun::recv(never), gorun::cancelled(stop.get_token()));
    CHECK(r.index == 1);
    // Already requested: fires without parking.
    auto r2 = co_await gorun::select(gorun::recv(never), gorun::cancelled(stop.get_token()));
    CHECK(r2.index == 1);
}

namespace {
gorun::task<> timed_consumer(
    gorun::channel<int> ch,
    std::uint64_t seed,
    std::atomic<long>* sum,
    std::atomic<int>* n,
    gorun::wait_group* wg) {
    std::uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 1;
    for (;;) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        auto r = co_await gorun::recv_for(ch, std::chrono::microseconds(x % 100));
        if (r.status == gorun::recv_status::closed)
            break;
        if (r.status == gorun::recv_status::ok) {
            sum->fetch_add(*r);
            n->fetch_add(1);
        }
    }
    wg->done();
}
}  // namespace

GORUN_TEST_CASE("SEL-1: receivers timing out at random never lose or duplicate a value") {
    gorun::channel<int> ch(0);
    std::atomic<long> sum{0};
    std::atomic<int> n{0};
    gorun::wait_group wg;
    wg.add(4);
    for (std::uint64_t c = 0; c < 4; ++c)
        gorun::go(timed_consumer, ch, c + 1, &sum, &n, &wg);
    constexpr int total = 20'000;
    for (int i = 0; i < total; ++i)
        co_await ch.send(i);
    ch.close();
    co_await wg.wait();
    CHECK(n.load() == total);
    CHECK(sum.load() == long(total) * (total - 1) / 2);
}

GORUN_TEST_CASE("selects parked on timers at shutdown give their timers back (LeakSanitizer)") {
    for (int i = 0; i < 50; ++i)
        gorun::go([]() -> gorun::task<> {
            gorun::channel<int> never(0);
            co_await gorun::select(gorun::recv(never), gorun::after(1h));
        });
    for (int i = 0; i < 100; ++i)
        co_await gorun::yield();
    CHECK(gorun::metrics().timers_pending >= 1);
}

namespace {
// channel<T> asks only for a nothrow move constructor; select must not ask for more.
struct move_only_no_assign {
    int v;
    explicit move_only_no_assign(int x) noexcept
        : v(x) {}
    move_only_no_assign(move_only_no_assign&&) noexcept = default;
    move_only_no_assign& operator=(move_only_no_assign&&) = delete;
};
}  // namespace

GORUN_TEST_CASE("select receives a type that can be moved but not assigned") {
    gorun::channel<move_only_no_assign> a(1), b(1);
    CHECK(a.try_send(move_only_no_assign(7)));
    auto r = co_await gorun::select(gorun::recv(a), gorun::recv(b));
    CHECK(r.index == 0);
    auto& v = r.get<0>();
    CHECK((v && v->v == 7));
    b.close();
    auto r2 = co_await gorun::select(gorun::recv(b), gorun::default_case);
    CHECK(r2.index == 0);
    CHECK(!r2.get<0>());
}
