// Conformance: Go's channel semantics, ported test by test from Go's own tests
// (src/runtime/chan_test.go and test/chan/*.go). Each test names the Go test it ports; the
// code is written for gorun's API, and Go's sleeps ("let the goroutine block") are replaced by
// waiting until the waiter is really parked in the channel's queue (parked_waiters below).
// Contract IDs (TESTING.md): CH-1, CH-3, CH-4.
#include <gorun/channel.hpp>
#include <gorun/select.hpp>

#include "conformance.hpp"
#include "harness.hpp"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

// doctest's INFO/CAPTURE scopes live on a thread-local stack, and a coroutine may resume on
// another worker after any co_await: so no message scope may span a co_await. Checks inside
// the capacity loops name the capacity in their message instead, and their conditions never
// contain a co_await.
#define CHECK_CAP(...) CHECK_MESSAGE((__VA_ARGS__), "capacity " << cap)
#define CHECK_FALSE_CAP(...) CHECK_FALSE_MESSAGE((__VA_ARGS__), "capacity " << cap)
#define REQUIRE_CAP(...) REQUIRE_MESSAGE((__VA_ARGS__), "capacity " << cap)

namespace {

using namespace conformance;

// Go's TestChan runs capacities 0..199 (0..19 in -short); the issue asks for 0..64.
constexpr std::size_t max_cap = 64;

}  // namespace

// ---------------------------------------------------------------------------------------------
// Go: TestChan (src/runtime/chan_test.go), one section per test case, over capacities 0..64.

// TestChan: "Ensure that receive from empty chan blocks" + "non-blocking receive does not block".
GORUN_TEST_CASE("CH-1: for capacities 0..64 a receive from an empty channel blocks and a "
                "non-blocking receive does not") {
    for (std::size_t cap = 0; cap <= max_cap; ++cap) {
        gorun::channel<int> c(cap);
        std::atomic<bool> recv1{false}, recv2{false};
        gorun::wait_group wg;
        wg.go([&]() -> gorun::task<> {
            (void)co_await c.recv();
            recv1 = true;
        });
        wg.go([&]() -> gorun::task<> {
            auto v = co_await c.recv();
            recv2 = v.has_value();
        });
        co_await until_parked(c, 2, 0);
        CHECK_FALSE_CAP(recv1.load());
        CHECK_FALSE_CAP(recv2.load());
        CHECK_CAP(c.try_recv().status == gorun::recv_status::empty);
        auto r = co_await gorun::select(gorun::recv(c), gorun::default_case);
        CHECK_CAP(r.index == 1);
        co_await c.send(0);
        co_await c.send(0);
        co_await wg.wait();
        CHECK_CAP(recv1.load());
        CHECK_CAP(recv2.load());
        CHECK_CAP(parked_waiters(c) == std::pair<std::size_t, std::size_t>{0, 0});
    }
}

// TestChan: "Ensure that send to full chan blocks" + "non-blocking send does not block".
// Added: the parked sender's value comes after the buffered ones (CH-3 FIFO).
GORUN_TEST_CASE("CH-1: for capacities 0..64 a send to a full channel blocks and a non-blocking "
                "send does not") {
    for (std::size_t cap = 0; cap <= max_cap; ++cap) {
        gorun::channel<int> c(cap);
        for (std::size_t i = 0; i < cap; ++i)
            co_await c.send(static_cast<int>(i));
        std::atomic<bool> sent{false};
        gorun::wait_group wg;
        wg.go([&]() -> gorun::task<> {
            co_await c.send(-1);
            sent = true;
        });
        co_await until_parked(c, 0, 1);  // CH-1: a sender waits, so no receiver does
        CHECK_FALSE_CAP(sent.load());
        CHECK_FALSE_CAP(c.try_send(7));
        auto r = co_await gorun::select(gorun::send(c, 7), gorun::default_case);
        CHECK_CAP(r.index == 1);
        CHECK_CAP(c.size() == cap);
        for (std::size_t i = 0; i < cap; ++i) {
            auto v = co_await c.recv();
            CHECK_CAP(v == static_cast<int>(i));
        }
        auto last = co_await c.recv();
        CHECK_CAP(last == -1);
        co_await wg.wait();
        CHECK_CAP(sent.load());
        CHECK_CAP(c.size() == 0);
    }
}

// TestChan: "Ensure that we receive 0 from closed chan" — here: the buffer in order, then
// nullopt forever.
GORUN_TEST_CASE("CH-4: for capacities 0..64 a closed channel yields its buffer in order, then "
                "closed forever") {
    for (std::size_t cap = 0; cap <= max_cap; ++cap) {
        gorun::channel<int> c(cap);
        for (std::size_t i = 0; i < cap; ++i)
            co_await c.send(static_cast<int>(i));
        c.close();
        CHECK_CAP(c.size() == cap);
        for (std::size_t i = 0; i < cap; ++i) {
            auto v = co_await c.recv();
            REQUIRE_CAP(v.has_value());
            CHECK_CAP(*v == static_cast<int>(i));
        }
        for (int k = 0; k < 3; ++k) {
            auto v = co_await c.recv();
            CHECK_FALSE_CAP(v.has_value());
        }
        CHECK_CAP(c.try_recv().status == gorun::recv_status::closed);
        auto r = co_await gorun::select(gorun::recv(c), gorun::default_case);
        CHECK_CAP(r.index == 0);
        CHECK_FALSE_CAP(r.get<0>().has_value());
        CHECK_THROWS_AS(c.try_send(1), gorun::channel_closed);
    }
}

// TestChan: "Ensure that close unblocks receive".
GORUN_TEST_CASE("CH-4: for capacities 0..64 close unblocks a parked receiver with closed") {
    for (std::size_t cap = 0; cap <= max_cap; ++cap) {
        gorun::channel<int> c(cap);
        gorun::channel<bool> done(0);
        gorun::go([c, done]() mutable -> gorun::task<> {
            auto v = co_await c.recv();
            co_await done.send(!v.has_value());
        });
        co_await until_parked(c, 1, 0);
        c.close();
        auto woken_closed = co_await done.recv();
        CHECK_CAP(woken_closed == true);
    }
}

// TestChan: "Send 100 integers, ensure that we receive them non-corrupted in FIFO order" (twice,
// as Go does with both receive forms), then "Send 1000 integers in 4 goroutines, ensure that we
// receive what we send" with 4 receivers.
GORUN_TEST_CASE("CH-3: for capacities 0..64 values arrive in FIFO order, and 4 producers x 4 "
                "consumers deliver each value exactly once") {
    constexpr int P = 4;
    constexpr int L = 1000;
    for (std::size_t cap = 0; cap <= max_cap; ++cap) {
        gorun::channel<int> c(cap);
        for (int round = 0; round < 2; ++round) {
            gorun::go([c]() mutable -> gorun::task<> {
                for (int i = 0; i < 100; ++i)
                    co_await c.send(i);
            });
            int bad = 0;
            for (int i = 0; i < 100; ++i) {
                auto v = co_await c.recv();
                if (!v || *v != i)
                    ++bad;
            }
            CHECK_CAP(bad == 0);
        }

        for (int p = 0; p < P; ++p)
            gorun::go([c]() mutable -> gorun::task<> {
                for (int i = 0; i < L; ++i)
                    co_await c.send(i);
            });
        gorun::channel<std::vector<int>> done(0);
        for (int p = 0; p < P; ++p)
            gorun::go([c, done]() mutable -> gorun::task<> {
                std::vector<int> recv(L, 0);
                for (int i = 0; i < L; ++i) {
                    auto v = co_await c.recv();
                    if (v && *v >= 0 && *v < L)
                        ++recv[static_cast<std::size_t>(*v)];
                }
                co_await done.send(std::move(recv));
            });
        std::vector<int> recv(L, 0);
        for (int p = 0; p < P; ++p) {
            auto part = (co_await done.recv()).value();
            for (int k = 0; k < L; ++k)
                recv[static_cast<std::size_t>(k)] += part[static_cast<std::size_t>(k)];
        }
        CHECK_CAP(std::count(recv.begin(), recv.end(), P) == L);
    }
}

// TestChan: "Test len/cap".
GORUN_TEST_CASE("for capacities 0..64 size and capacity are Go's len and cap") {
    for (std::size_t cap = 0; cap <= max_cap; ++cap) {
        gorun::channel<int> c(cap);
        CHECK_CAP(c.size() == 0);
        CHECK_CAP(c.capacity() == cap);
        for (std::size_t i = 0; i < cap; ++i)
            co_await c.send(static_cast<int>(i));
        CHECK_CAP(c.size() == cap);
        CHECK_CAP(c.capacity() == cap);
    }
    gorun::channel<int> nil;
    CHECK(nil.nil());
    CHECK(nil.size() == 0);
    CHECK(nil.capacity() == 0);
    co_return;
}

// ---------------------------------------------------------------------------------------------
// Go: TestNonblockRecvRace (src/runtime/chan_test.go).

// A value is buffered before the receiver starts and the channel is closed concurrently, so a
// non-blocking receive must find either the value or the close — never "nothing ready". Go
// relies on the new goroutine running at once on another P; here the main task waits until the
// receiving task has started, so that (with several workers) the two really overlap.
namespace {
// One round; `use_select`: select(recv, default), else try_recv. True if "nothing ready".
gorun::task<bool> nonblock_recv_round(bool use_select) {
    gorun::channel<int> c(1);
    gorun::channel<bool> done(1);
    std::atomic<bool> started{false};
    co_await c.send(1);
    gorun::go([c, done, use_select, &started]() mutable -> gorun::task<> {
        started.store(true);
        bool nothing;
        if (use_select)
            nothing = (co_await gorun::select(gorun::recv(c), gorun::default_case)).index == 1;
        else
            nothing = c.try_recv().status == gorun::recv_status::empty;
        co_await done.send(nothing);
    });
    while (!started.load())
        co_await gorun::yield();
    c.close();
    (void)co_await c.recv();
    co_return (co_await done.recv()).value_or(true);
}
}  // namespace

GORUN_TEST_CASE_WITH(
    "SEL-2: a non-blocking receive racing a close never takes default when a "
    "value was ready",
    {1u, 2u, 4u}) {
    const int n = scaled(10'000);
    int defaults = 0, empties = 0;
    for (int i = 0; i < n; ++i)
        defaults += co_await nonblock_recv_round(true);
    // The same race through try_recv: it reports ok or closed, never empty.
    for (int i = 0; i < n; ++i)
        empties += co_await nonblock_recv_round(false);
    CHECK(defaults == 0);
    CHECK(empties == 0);
}

// ---------------------------------------------------------------------------------------------
// Go: TestMultiConsumer (src/runtime/chan_test.go).

// 23 workers forward values from q to r, some yielding to disturb the FIFO-ish order; the
// feeder closes q, waits for the workers, closes r; the consumer checks count and sum.
GORUN_TEST_CASE("CH-3: many consumers forwarding through two channels keep count and sum") {
    constexpr int nwork = 23;
    const int niter = scaled(271'828);
    static constexpr int pn[] = {2, 3, 7, 11, 13, 17, 19, 23, 27, 31};
    constexpr int npn = static_cast<int>(std::size(pn));

    gorun::channel<int> q(nwork * 3), r(nwork * 3);
    long expect = 0;
    for (int i = 0; i < niter; ++i)
        expect += pn[i % npn];

    auto* workers = new gorun::wait_group;  // owned by the feeder below
    for (int w = 0; w < nwork; ++w)
        workers->go(
            [q, r](int id) mutable -> gorun::task<> {
                while (auto v = co_await q.recv()) {
                    if (pn[id % npn] == *v)
                        co_await gorun::yield();  // mess with the FIFO-ish nature
                    co_await r.send(*v);
                }
            },
            w);
    gorun::go(
        [q, r, niter](gorun::wait_group* wg) mutable -> gorun::task<> {
            for (int i = 0; i < niter; ++i)
                co_await q.send(pn[i % npn]);
            q.close();            // no more work
            co_await wg->wait();  // workers done
            delete wg;
            r.close();  // so there can be no more results
        },
        workers);

    long n = 0, s = 0;
    while (auto v = co_await r.recv()) {
        ++n;
        s += *v;
    }
    CHECK(n == niter);
    CHECK(s == expect);
}

// ---------------------------------------------------------------------------------------------
// Close with blocked senders and receivers (TestChan's "close unblocks receive", extended to
// many waiters of every kind, over the capacity matrix).

// Every parked receiver — plain and select — is woken by close and sees closed; the channel
// then stays closed.
GORUN_TEST_CASE("CH-4: for capacities 0..64 close wakes every parked receiver, plain and select") {
    constexpr int plain = 6, selects = 4;
    for (std::size_t cap = 0; cap <= max_cap; ++cap) {
        gorun::channel<int> c(cap), never(0);
        std::atomic<int> closed_seen{0}, wrong{0};
        gorun::wait_group wg;
        for (int i = 0; i < plain; ++i)
            wg.go([&]() -> gorun::task<> {
                auto v = co_await c.recv();
                (v ? wrong : closed_seen).fetch_add(1);
            });
        for (int i = 0; i < selects; ++i)
            wg.go([&]() -> gorun::task<> {
                auto r = co_await gorun::select(gorun::recv(never), gorun::recv(c));
                (r.index == 1 && !r.get<1>().has_value() ? closed_seen : wrong).fetch_add(1);
            });
        co_await until_parked(c, plain + selects, 0);
        c.close();
        co_await wg.wait();
        CHECK_CAP(closed_seen.load() == plain + selects);
        CHECK_CAP(wrong.load() == 0);
        CHECK_CAP(parked_waiters(c) == std::pair<std::size_t, std::size_t>{0, 0});
        CHECK_CAP(parked_waiters(never) == std::pair<std::size_t, std::size_t>{0, 0});
    }
}

// Parked senders on a full buffer all get channel_closed; their values are destroyed exactly
// once and never received; the buffered values are still received, in order.
GORUN_TEST_CASE("CH-4: for capacities 0..64 close makes every parked sender throw and keeps the "
                "buffer for the receivers") {
    constexpr int plain = 6, selects = 4;
    for (std::size_t cap = 0; cap <= max_cap; ++cap) {
        tracked::reset();
        {
            gorun::channel<tracked> c(cap), never(0);
            for (std::size_t i = 0; i < cap; ++i)
                co_await c.send(tracked(static_cast<int>(i)));
            std::atomic<int> threw{0}, wrong{0};
            gorun::wait_group wg;
            for (int i = 0; i < plain; ++i)
                wg.go([&, i]() -> gorun::task<> {
                    try {
                        co_await c.send(tracked(1000 + i));
                        wrong.fetch_add(1);
                    } catch (const gorun::channel_closed&) {
                        threw.fetch_add(1);
                    }
                });
            for (int i = 0; i < selects; ++i)
                wg.go([&, i]() -> gorun::task<> {
                    try {
                        (void)co_await gorun::select(
                            gorun::recv(never), gorun::send(c, tracked(2000 + i)));
                        wrong.fetch_add(1);
                    } catch (const gorun::channel_closed&) {
                        threw.fetch_add(1);
                    }
                });
            co_await until_parked(c, 0, plain + selects);
            c.close();
            co_await wg.wait();
            CHECK_CAP(threw.load() == plain + selects);
            CHECK_CAP(wrong.load() == 0);
            // The senders' values died with their awaiters: only the buffer is alive.
            CHECK_CAP(tracked::values() == static_cast<long>(cap));
            for (std::size_t i = 0; i < cap; ++i) {
                auto v = co_await c.recv();
                REQUIRE_CAP(v.has_value());
                CHECK_CAP(v->id == static_cast<int>(i));
            }
            auto after = co_await c.recv();
            CHECK_FALSE_CAP(after.has_value());
            CHECK_THROWS_AS(c.try_send(tracked(3000)), gorun::channel_closed);
        }
        CHECK_CAP(tracked::live() == 0);
        CHECK_CAP(tracked::misuses.load() == 0);
    }
}

// Senders and receivers parked at once on different channels, all closed together by another
// task: nobody is left behind.
GORUN_TEST_CASE("CH-4: closing many channels with parked senders and receivers wakes them all") {
    constexpr int chans = 8, per_side = 4;
    std::vector<gorun::channel<int>> full, empty;
    for (int i = 0; i < chans; ++i) {
        full.emplace_back(static_cast<std::size_t>(i));
        empty.emplace_back(static_cast<std::size_t>(i));
        for (int k = 0; k < i; ++k)
            co_await full.back().send(k);
    }
    std::atomic<int> threw{0}, closed_seen{0};
    gorun::wait_group wg;
    for (int i = 0; i < chans; ++i)
        for (int k = 0; k < per_side; ++k) {
            wg.go([f = full[static_cast<std::size_t>(i)], &threw]() mutable -> gorun::task<> {
                try {
                    co_await f.send(-1);
                } catch (const gorun::channel_closed&) {
                    threw.fetch_add(1);
                }
            });
            wg.go(
                [e = empty[static_cast<std::size_t>(i)], &closed_seen]() mutable -> gorun::task<> {
                    if (!(co_await e.recv()))
                        closed_seen.fetch_add(1);
                });
        }
    for (int i = 0; i < chans; ++i) {
        co_await until_parked(full[static_cast<std::size_t>(i)], 0, per_side);
        co_await until_parked(empty[static_cast<std::size_t>(i)], per_side, 0);
    }
    gorun::go([full, empty]() mutable -> gorun::task<> {
        for (auto& c : full)
            c.close();
        for (auto& c : empty)
            c.close();
        co_return;
    });
    co_await wg.wait();
    CHECK(threw.load() == chans * per_side);
    CHECK(closed_seen.load() == chans * per_side);
    for (int i = 0; i < chans; ++i) {
        auto& f = full[static_cast<std::size_t>(i)];
        for (int k = 0; k < i; ++k)
            CHECK((co_await f.recv()).value() == k);
        CHECK_FALSE((co_await f.recv()).has_value());
    }
}

// ---------------------------------------------------------------------------------------------
// Lifetime counting (CH-3: received exactly once, or destroyed exactly once with the channel).

GORUN_TEST_CASE("CH-3: for capacities 1..64 buffered values are destroyed exactly once with the "
                "channel") {
    for (std::size_t cap = 1; cap <= max_cap; ++cap) {
        tracked::reset();
        {
            gorun::channel<tracked> c(cap);
            for (std::size_t i = 0; i < cap; ++i)
                co_await c.send(tracked(static_cast<int>(i)));
            // Receive a few so the ring's head has moved, then refill past the wrap point.
            for (std::size_t i = 0; i < cap / 2; ++i) {
                auto v = co_await c.recv();
                CHECK_CAP((v && v->id == static_cast<int>(i)));
            }
            for (std::size_t i = 0; i < cap / 2; ++i)
                CHECK_CAP(c.try_send(tracked(static_cast<int>(cap + i))));
            CHECK_CAP(tracked::values() == static_cast<long>(cap));
            gorun::channel<tracked> other = c;  // a second handle: the state outlives `c`
            (void)other;
        }
        CHECK_CAP(tracked::live() == 0);
        CHECK_CAP(tracked::misuses.load() == 0);
    }
}

GORUN_TEST_CASE("CH-3: a send on a closed channel destroys its value exactly once") {
    tracked::reset();
    {
        gorun::channel<tracked> c(1);
        c.close();
        bool threw = false;
        try {
            co_await c.send(tracked(1));
        } catch (const gorun::channel_closed&) {
            threw = true;
        }
        CHECK(threw);
        tracked t(2);
        CHECK_THROWS_AS(c.try_send(std::move(t)), gorun::channel_closed);
        CHECK(tracked::values() == 1);  // just `t`
    }
    CHECK(tracked::live() == 0);
    CHECK(tracked::misuses.load() == 0);
}

GORUN_TEST_CASE("CH-3: a failed try_send neither moves nor destroys the caller's value") {
    tracked::reset();
    {
        gorun::channel<tracked> c(0);
        tracked t(5);
        CHECK_FALSE(c.try_send(std::move(t)));
        CHECK(t.id == 5);
        CHECK(tracked::values() == 1);
        gorun::channel<tracked> full(1);
        CHECK(full.try_send(tracked(6)));
        CHECK_FALSE(full.try_send(std::move(t)));
        CHECK(t.id == 5);
        CHECK((co_await full.recv()).value().id == 6);
    }
    CHECK(tracked::live() == 0);
    CHECK(tracked::misuses.load() == 0);
}

// Producers and consumers over capacities 0, 1 and 64, mixing send/try_send and recv/try_recv:
// each id is received exactly once, and when everything is gone every object constructed
// (moves included) has been destroyed exactly once.
GORUN_TEST_CASE("CH-3: counted payloads through many producers and consumers: each received "
                "once, none leaked, none destroyed twice") {
    constexpr int P = 4, C = 4;
    const int per = scaled(5'000);
    for (std::size_t cap : {0u, 1u, 64u}) {
        tracked::reset();
        std::vector<int> seen(static_cast<std::size_t>(P * per), 0);
        std::atomic<int> moved_from{0};
        {
            gorun::channel<tracked> c(cap);
            gorun::wait_group producers, consumers;
            for (int p = 0; p < P; ++p)
                producers.go(
                    [c, per](int base) mutable -> gorun::task<> {
                        for (int i = 0; i < per; ++i) {
                            tracked t(base + i);
                            if (i % 3 == 0 && c.try_send(std::move(t)))
                                continue;
                            co_await c.send(std::move(t));
                        }
                    },
                    p* per);
            std::mutex mu;
            for (int k = 0; k < C; ++k)
                consumers.go(
                    [&, c](int id) mutable -> gorun::task<> {
                        std::vector<int> mine;
                        for (int i = 0;; ++i) {
                            std::optional<tracked> v;
                            if ((i + id) % 4 == 0) {
                                auto r = c.try_recv();
                                if (r.status == gorun::recv_status::closed)
                                    break;
                                if (r.status == gorun::recv_status::empty) {
                                    co_await gorun::yield();
                                    continue;
                                }
                                v = std::move(r.value);
                            } else {
                                v = co_await c.recv();
                                if (!v)
                                    break;
                            }
                            if (v->id < 0)
                                moved_from.fetch_add(1);
                            else
                                mine.push_back(v->id);
                        }
                        std::lock_guard lock(mu);
                        for (int id2 : mine)
                            ++seen[static_cast<std::size_t>(id2)];
                    },
                    k);
            co_await producers.wait();
            c.close();
            co_await consumers.wait();
        }
        CHECK_CAP(moved_from.load() == 0);
        CHECK_CAP(std::count(seen.begin(), seen.end(), 1) == P * per);
        CHECK_CAP(tracked::live() == 0);
        CHECK_CAP(tracked::misuses.load() == 0);
        CHECK_CAP(tracked::constructed.load() == tracked::destroyed.load());
    }
}

namespace {
gorun::task<> values_blocked_at_shutdown() {
    gorun::channel<tracked> full(2), unbuffered(0), never(0);
    co_await full.send(tracked(1));
    co_await full.send(tracked(2));
    gorun::go([full]() mutable -> gorun::task<> { co_await full.send(tracked(3)); });
    gorun::go([unbuffered]() mutable -> gorun::task<> { co_await unbuffered.send(tracked(4)); });
    gorun::go([unbuffered, never]() mutable -> gorun::task<> {
        (void)co_await gorun::select(gorun::recv(never), gorun::send(unbuffered, tracked(5)));
    });
    co_await until_parked(full, 0, 1);
    co_await until_parked(unbuffered, 0, 2);
    CHECK(tracked::values() == 5);
    // Returning ends the runtime with three tasks parked on sends: shutdown destroys them.
}
}  // namespace

// The runtime destroys the frames of tasks still parked at shutdown: their values die with
// them, and the buffered values die with the channel (SCHED-1 + CH-3).
TEST_CASE("CH-3: values of senders parked at shutdown and values still buffered are destroyed "
          "exactly once") {
    for (unsigned workers : {1u, 4u}) {
        CAPTURE(workers);
        tracked::reset();
        gorun::test::run_body(&values_blocked_at_shutdown, workers);
        CHECK(tracked::live() == 0);
        CHECK(tracked::misuses.load() == 0);
    }
}

// ---------------------------------------------------------------------------------------------
// Move-only payloads (Go has no move-only types; this is TestChanSendInterface's "any value
// goes through every operation" for std::unique_ptr).

namespace {
std::atomic<long> deletes{0};
struct counting_delete {
    void operator()(int* p) const noexcept {
        deletes.fetch_add(1, std::memory_order_relaxed);
        delete p;
    }
};
using owned = std::unique_ptr<int, counting_delete>;
owned make_owned(int v) {
    return owned(new int(v));
}
}  // namespace

GORUN_TEST_CASE("CH-3: unique_ptr values travel through send, try_send, select, recv and "
                "try_recv, each exactly once") {
    const int n = scaled(3'000);
    for (std::size_t cap : {0u, 1u, 64u}) {
        deletes = 0;
        long sum = 0, got = 0;
        {
            gorun::channel<owned> c(cap), never(0);
            gorun::go([c, never, n]() mutable -> gorun::task<> {
                for (int i = 0; i < n; ++i) {
                    owned p = make_owned(i);
                    switch (i % 3) {
                        case 0:
                            co_await c.send(std::move(p));
                            break;
                        case 1:
                            while (!c.try_send(std::move(p)))
                                co_await gorun::yield();  // a failed try_send leaves p intact
                            break;
                        default:
                            (void)co_await gorun::select(
                                gorun::send(c, std::move(p)), gorun::recv(never));
                            break;
                    }
                }
                c.close();
            });
            for (int i = 0;; ++i) {
                std::optional<owned> v;
                if (i % 3 == 0) {
                    v = co_await c.recv();
                } else if (i % 3 == 1) {
                    auto r = c.try_recv();
                    if (r.status == gorun::recv_status::empty) {
                        co_await gorun::yield();
                        continue;
                    }
                    v = std::move(r.value);
                } else {
                    auto r = co_await gorun::select(gorun::recv(never), gorun::recv(c));
                    v = std::move(r.get<1>());
                }
                if (!v)
                    break;
                REQUIRE_CAP(*v);
                sum += **v;
                ++got;
            }
        }
        CHECK_CAP(got == n);
        CHECK_CAP(sum == static_cast<long>(n) * (n - 1) / 2);
        CHECK_CAP(deletes.load() == n);
    }
}

GORUN_TEST_CASE("CH-3: unique_ptr values left in a closed channel are deleted with it") {
    deletes = 0;
    {
        gorun::channel<owned> c(16);
        for (int i = 0; i < 10; ++i)
            co_await c.send(make_owned(i));
        c.close();
        CHECK(**(co_await c.recv()) == 0);  // one received (and deleted here)
        CHECK(deletes.load() == 1);
        bool threw = false;
        try {
            co_await c.send(make_owned(99));
        } catch (const gorun::channel_closed&) {
            threw = true;
        }
        CHECK(threw);
        CHECK(deletes.load() == 2);  // the refused value
    }
    CHECK(deletes.load() == 11);  // the 9 still buffered, with the channel
}

// ---------------------------------------------------------------------------------------------
// Go: test/chan/fifo.go — AsynchFifo and SynchFifo.

GORUN_TEST_CASE("CH-3: a buffered channel is a FIFO, and parked receivers are served in "
                "arrival order") {
    constexpr int N = 10;
    {
        gorun::channel<int> ch(N);  // AsynchFifo
        for (int i = 0; i < N; ++i)
            co_await ch.send(i);
        for (int i = 0; i < N; ++i)
            CHECK((co_await ch.recv()).value() == i);
    }
    // SynchFifo: a daisy chain; link i receives from ch only after link i-1 did, so the values
    // 0..N-1 sent on the unbuffered ch must reach the links in order.
    gorun::channel<int> ch(0);
    gorun::channel<int> in(0);
    gorun::channel<int> start = in;
    std::atomic<int> bad{0};
    for (int i = 0; i < N; ++i) {
        gorun::channel<int> out(0);
        gorun::go([ch, in, out, i, &bad]() mutable -> gorun::task<> {
            (void)co_await in.recv();
            if ((co_await ch.recv()).value_or(-1) != i)
                bad.fetch_add(1);
            co_await out.send(1);
        });
        in = out;
    }
    co_await start.send(0);
    for (int i = 0; i < N; ++i)
        co_await ch.send(i);
    (void)co_await in.recv();
    CHECK(bad.load() == 0);

    // The same promise made directly: receivers parked one after another get values in that
    // order (Go's waitq is FIFO).
    gorun::channel<int> q(0);
    gorun::channel<std::pair<int, int>> report(N);
    for (int i = 0; i < N; ++i) {
        gorun::go([q, report, i]() mutable -> gorun::task<> {
            co_await report.send({i, (co_await q.recv()).value_or(-1)});
        });
        co_await until_parked(q, static_cast<std::size_t>(i + 1), 0);
    }
    for (int i = 0; i < N; ++i)
        co_await q.send(i);
    for (int i = 0; i < N; ++i) {
        auto [who, what] = (co_await report.recv()).value();
        CHECK(who == what);
    }
}

// ---------------------------------------------------------------------------------------------
// Go: test/chan/nonblock.go — non-blocking operations with several value types, buffered 0 and
// 1: a non-blocking receive on an empty channel fails; a non-blocking send to a parked receiver
// succeeds; a non-blocking receive from a parked (or already buffered) sender succeeds.

namespace {
template <class T>
gorun::task<> nonblock_round(std::size_t cap, T to_receiver, T from_sender) {
    gorun::channel<T> c(cap);
    gorun::channel<bool> sync(0);
    CHECK_CAP(c.try_recv().status == gorun::recv_status::empty);

    gorun::go([c, sync, to_receiver]() mutable -> gorun::task<> {
        auto v = co_await c.recv();
        co_await sync.send(v && *v == to_receiver);
    });
    co_await until_parked(c, 1, 0);
    CHECK_CAP(c.try_send(T(to_receiver)));
    auto delivered = co_await sync.recv();
    CHECK_CAP(delivered == true);

    gorun::go([c, sync, from_sender]() mutable -> gorun::task<> {
        co_await c.send(T(from_sender));
        co_await sync.send(true);
    });
    if (cap > 0)
        (void)co_await sync.recv();
    else
        co_await until_parked(c, 0, 1);
    auto r = c.try_recv();
    CHECK_CAP(r.status == gorun::recv_status::ok);
    CHECK_CAP((r.value && *r.value == from_sender));
    if (cap == 0)
        (void)co_await sync.recv();
}
}  // namespace

GORUN_TEST_CASE("non-blocking send and receive succeed exactly when a partner or room is there, "
                "for several value types") {
    for (std::size_t buffer : {0u, 1u}) {
        co_await nonblock_round<std::int32_t>(buffer, 123, 234);
        co_await nonblock_round<std::int64_t>(buffer, 123456, 234567);
        co_await nonblock_round<bool>(buffer, true, true);
        co_await nonblock_round<std::string>(buffer, "hello", "hello again");
    }
}

// ---------------------------------------------------------------------------------------------
// Go: test/chan/zerosize.go (and chan struct{} everywhere): a channel of an empty type counts
// and hands over values like any other.

GORUN_TEST_CASE("a channel of an empty type blocks, buffers, counts and closes like any other") {
    struct none {};
    for (std::size_t cap : {0u, 1u, 64u}) {
        gorun::channel<none> c(cap);
        for (std::size_t i = 0; i < cap; ++i)
            CHECK_CAP(c.try_send(none{}));
        CHECK_FALSE_CAP(c.try_send(none{}));
        CHECK_CAP(c.size() == cap);
        gorun::go([c]() mutable -> gorun::task<> { co_await c.send(none{}); });
        co_await until_parked(c, 0, 1);
        for (std::size_t i = 0; i <= cap; ++i) {
            auto v = co_await c.recv();
            CHECK_CAP(v.has_value());
        }
        CHECK_CAP(c.size() == 0);
        c.close();
        auto after = co_await c.recv();
        CHECK_FALSE_CAP(after.has_value());
    }
}
