// Stress for the lock-free fast path of buffered channels (detail/chan_ring.hpp: CH-5, CH-6; and
// CH-3, CH-4, SEL-1 across it). Small capacities (1, 2, 3) keep the ring at its full and empty
// edges, where operations switch between the fast path and the lock, freeze and thaw the ring,
// and meet stragglers; a capacity of 16 keeps it in the middle, where most operations are fast.
// Producers mix plain sends, try_send, and two-channel select sends; consumers mix recv,
// try_recv and two-channel select receives; both sides yield now and then so the buffer fills
// and drains. One scenario closes the channels while producers are still sending.
// Checks at the end:
//   count     every send that did not throw was received exactly once (no loss, no duplicate:
//             a select send commits one case only, SEL-1)
//   FIFO      per consumer, each producer's sequence on each channel only increases
//   closed    no receive that began after some receiver had seen "closed and drained" got a
//             value (CH-4: a value sent before close is never overtaken by closed), and no send
//             that began after close() returned succeeded
// Sized by GORUN_STRESS_SCALE (scale 1: about 240,000 messages; a tenth under sanitizers). Runs
// with 1, 2 and 4 workers; GORUN_TEST_SEED replays the test's choices.
#include <gorun/channel.hpp>
#include <gorun/select.hpp>

#include "harness.hpp"
#include "test_rng.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <random>
#include <vector>

namespace {

using gorun::test::rng;
using gorun::test::splitmix64;

std::uint64_t test_seed() {
    return gorun::test::test_seed("stress_chan_ring_test");
}

struct message {
    std::uint32_t producer = 0;
    std::uint32_t channel = 0;
    std::uint64_t seq = 0;
};

struct scenario {
    const char* name;
    std::array<std::size_t, 2> caps;
    unsigned producers;
    unsigned consumers;
    bool close_early;  // close both channels while producers still send
};

struct shared {
    std::array<gorun::channel<message>, 2> ch;
    std::vector<std::array<std::uint64_t, 2>> sent;  // [producer][channel]: committed sends
    std::vector<std::vector<message>> logs;          // [consumer]
    std::atomic<std::uint64_t> total_sent{0};
    std::uint64_t close_at = 0;  // close_early: close once this many sends committed
    std::atomic<bool> closing{false};
    std::atomic<bool> closed_done{false};  // both close() calls have returned
    std::atomic<std::uint64_t> sends_after_close{0};
    std::array<std::atomic<bool>, 2> drained_seen{};  // some receiver saw ch[k] closed, drained
    std::atomic<std::uint64_t> late_values{0};
    std::atomic<std::uint64_t> unexpected_closed{0};

    void close_all() {
        if (!closing.exchange(true)) {
            ch[0].close();
            ch[1].close();
            closed_done.store(true);
        }
    }
};

gorun::task<> producer(shared* sh, std::uint32_t id, std::uint64_t n, std::uint64_t seed) {
    rng r(seed);
    std::array<std::uint64_t, 2> seq{};
    auto make = [&](std::uint32_t k) {
        return message{id, k, seq[k]};
    };
    for (std::uint64_t i = 0; i < n; ++i) {
        auto k = static_cast<std::uint32_t>(r.below(2));
        std::uint32_t committed = k;
        // CH-4: a send that begins after close() has returned must throw, fast path or not.
        bool after_close = sh->closed_done.load();
        try {
            switch (r.below(3)) {
                case 0:
                    co_await sh->ch[k].send(make(k));
                    break;
                case 1:
                    if (!sh->ch[k].try_send(make(k)))
                        co_await sh->ch[k].send(make(k));
                    break;
                default: {
                    // SEL-1: only the committed case's sequence number advances, so a second
                    // commit would show as a duplicate.
                    auto s = co_await gorun::select(
                        gorun::send(sh->ch[0], make(0)), gorun::send(sh->ch[1], make(1)));
                    committed = static_cast<std::uint32_t>(s.index);
                    break;
                }
            }
        } catch (const gorun::channel_closed&) {
            if (!sh->closing.load())
                sh->unexpected_closed.fetch_add(1);
            co_return;
        }
        if (after_close)
            sh->sends_after_close.fetch_add(1);
        sh->sent[id][committed] = ++seq[committed];
        if (sh->total_sent.fetch_add(1) + 1 == sh->close_at)
            sh->close_all();
        if (r.below(64) == 0)
            co_await gorun::yield();  // let the consumers drain: the empty edge
    }
}

// A consumer blocks only in operations that include its home channel (a plain recv on it, or a
// select over both), so each channel always has someone to drain it and producers blocked on a
// full channel cannot wait for consumers blocked on the other, empty one. home == 2: no home
// (a lone consumer), it blocks only in selects over both.
gorun::task<> consumer(shared* sh, std::size_t slot, std::size_t home, std::uint64_t seed) {
    rng r(seed);
    std::vector<message> log;
    std::array<bool, 2> open{true, true};
    std::array<bool, 2> drained_before{};
    auto got = [&](const std::optional<message>& v, std::size_t k) {
        if (drained_before[k])
            sh->late_values.fetch_add(1);  // CH-4: a value after closed-and-drained
        log.push_back(*v);
    };
    while (open[0] || open[1]) {
        // Read before the receive starts: if another receiver had already seen the channel
        // closed and drained, this receive must not find a value.
        for (std::size_t k = 0; k < 2; ++k)
            drained_before[k] = sh->drained_seen[k].load();
        std::uint64_t mode = r.below(3);
        if (mode == 0 && home == 2 && open[0] && open[1])
            mode = 2;
        if (mode == 2 && open[0] && open[1]) {
            auto s = co_await gorun::select(gorun::recv(sh->ch[0]), gorun::recv(sh->ch[1]));
            std::optional<message>& v = s.index == 0 ? s.get<0>() : s.get<1>();
            auto k = static_cast<std::size_t>(s.index);
            if (v) {
                got(v, k);
            } else {
                open[k] = false;
                sh->drained_seen[k].store(true);
            }
        } else {
            std::size_t k = open[0] && (!open[1] || r.below(2) == 0) ? 0 : 1;
            if (mode == 0 && home < 2 && open[home])
                k = home;
            std::optional<message> v;
            bool closed = false;
            if (mode == 1) {
                auto t = sh->ch[k].try_recv();
                if (t.status == gorun::recv_status::empty) {
                    co_await gorun::yield();
                    continue;
                }
                closed = t.status == gorun::recv_status::closed;
                v = std::move(t.value);
            } else {
                v = co_await sh->ch[k].recv();
                closed = !v;
            }
            if (closed) {
                open[k] = false;
                sh->drained_seen[k].store(true);
            } else {
                got(v, k);
            }
        }
        if (r.below(64) == 0)
            co_await gorun::yield();  // let the producers fill the buffer: the full edge
    }
    sh->logs[slot] = std::move(log);
}

void verify(const scenario& sc, shared& sh) {
    INFO("scenario: " << sc.name << ", workers: " << gorun::test::workers());
    std::vector<std::array<std::vector<std::uint8_t>, 2>> seen(sc.producers);
    std::uint64_t sent_total = 0;
    for (std::size_t p = 0; p < sc.producers; ++p)
        for (std::size_t k = 0; k < 2; ++k) {
            seen[p][k].assign(sh.sent[p][k], 0);
            sent_total += sh.sent[p][k];
        }
    std::uint64_t received = 0, duplicates = 0, phantoms = 0, fifo = 0, lost = 0;
    for (const auto& log : sh.logs) {
        std::vector<std::array<std::int64_t, 2>> last(sc.producers, {-1, -1});
        for (const message& m : log) {
            ++received;
            if (m.producer >= sc.producers || m.channel > 1
                || m.seq >= seen[m.producer][m.channel].size()) {
                ++phantoms;
                continue;
            }
            if (seen[m.producer][m.channel][m.seq]++)
                ++duplicates;
            auto& l = last[m.producer][m.channel];
            if (static_cast<std::int64_t>(m.seq) <= l)
                ++fifo;
            l = static_cast<std::int64_t>(m.seq);
        }
    }
    for (const auto& per : seen)
        for (const auto& s : per)
            for (std::uint8_t x : s)
                lost += x == 0;
    CAPTURE(sent_total);
    CHECK(sent_total == sh.total_sent.load());
    CHECK(received == sent_total);
    CHECK(duplicates == 0);
    CHECK(phantoms == 0);
    CHECK(lost == 0);
    CHECK(fifo == 0);
    CHECK(sh.late_values.load() == 0);
    CHECK(sh.sends_after_close.load() == 0);
    CHECK(sh.unexpected_closed.load() == 0);
    if (sc.close_early)
        CHECK(sh.close_at <= sent_total);
}

gorun::task<> run_scenario(const scenario& sc) {
    const std::uint64_t base = 40'000 * gorun::test::stress_scale();
    const std::uint64_t total = gorun::test::sanitized() ? base / 10 : base;
    rng r(test_seed() ^ splitmix64(gorun::test::workers() * 977 + sc.caps[0] * 31 + sc.caps[1]));
    shared sh;
    sh.ch[0] = gorun::channel<message>(sc.caps[0]);
    sh.ch[1] = gorun::channel<message>(sc.caps[1]);
    sh.sent.assign(sc.producers, {0, 0});
    sh.logs.resize(sc.consumers);
    if (sc.close_early)
        sh.close_at = total / 4 + r.below(total / 2) + 1;

    gorun::wait_group producers, consumers;
    for (unsigned c = 0; c < sc.consumers; ++c)
        consumers.go(
            consumer, &sh, std::size_t{c}, sc.consumers > 1 ? c % 2 : 2, r.below(UINT64_MAX));
    for (unsigned p = 0; p < sc.producers; ++p)
        producers.go(producer, &sh, p, total / sc.producers, r.below(UINT64_MAX));
    co_await producers.wait();
    sh.close_all();  // CH-4: consumers end once both channels are drained
    co_await consumers.wait();
    verify(sc, sh);
}

// Scale 1: 6 scenarios x 3 worker counts x 40,000 messages.
constexpr scenario edges{"edges", {1, 2}, 4, 4, false};
constexpr scenario edge_and_middle{"edge and middle", {3, 16}, 3, 2, false};
constexpr scenario single_consumer{"one consumer", {1, 16}, 4, 1, false};
constexpr scenario close_edges{"close at the edges", {1, 3}, 4, 3, true};
constexpr scenario close_middle{"close in the middle", {16, 2}, 4, 4, true};
constexpr scenario close_many{"close with many consumers", {2, 16}, 2, 6, true};

void run_all_workers(gorun::test::body_fn body) {
    gorun::runtime_options o;
    o.seed = test_seed();
    for (unsigned workers : {1u, 2u, 4u}) {
        CAPTURE(workers);
        gorun::test::run_body(body, workers, o);
    }
}

}  // namespace

TEST_CASE("CH-5, CH-6, CH-3: at the full and empty edges, fast and locked operations lose, "
          "duplicate and reorder nothing") {
    run_all_workers(+[]() -> gorun::task<> {
        co_await run_scenario(edges);
        co_await run_scenario(edge_and_middle);
        co_await run_scenario(single_consumer);
    });
}

TEST_CASE("CH-5, CH-6, CH-4: close during fast-path traffic keeps every successful send, and "
          "no receive finds a value after closed was seen") {
    run_all_workers(+[]() -> gorun::task<> {
        co_await run_scenario(close_edges);
        co_await run_scenario(close_middle);
        co_await run_scenario(close_many);
    });
}
