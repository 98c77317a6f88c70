// Channel stress (TESTING.md, stress tier; CH-1, CH-3, CH-4, SEL-1): P producers x C consumers x
// K channels with capacities 0, 1 and 64. Every message carries (producer, channel, sequence,
// payload hash). Producers send with plain sends, try_send, select-with-default and two-channel
// selects; some channels are closed mid-stream by whichever producer's send crosses a random
// threshold, and a producer that finds a channel closed stops using it. Consumers receive with
// recv, try_recv, and select fan-in over every channel (some with a default case). At the end:
//   count     every send that did not throw was received, and nothing else
//   no dups   no (producer, channel, sequence) received twice
//   no loss   every sequence below what the producer managed to send was received
//   FIFO      per consumer, each producer's sequence on each channel only increases; where a
//             channel has a single consumer, it sees 0, 1, 2, ... exactly
//   checksum  payload hashes check out, and their sum matches the sum over what was sent
// Sized by GORUN_STRESS_SCALE (scale 1: about 200,000 messages in all; a tenth under
// sanitizers). Runs with 1, 2 and 4 workers. One seed (GORUN_TEST_SEED, printed at start) drives
// both this test's choices and the runtime's shuffled scheduling, so a one-worker run replays.
#include <gorun/channel.hpp>
#include <gorun/select.hpp>

#include "harness.hpp"
#include "test_rng.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <random>
#include <utility>
#include <vector>

namespace {

using gorun::test::rng;
using gorun::test::splitmix64;

std::uint64_t test_seed() {
    return gorun::test::test_seed("stress_channel_test");
}

struct message {
    std::uint32_t producer = 0;
    std::uint32_t channel = 0;
    std::uint64_t seq = 0;
    std::uint64_t hash = 0;
};

std::uint64_t payload_hash(std::uint32_t producer, std::uint32_t channel, std::uint64_t seq) {
    return splitmix64(
        (static_cast<std::uint64_t>(producer) << 48) ^ (static_cast<std::uint64_t>(channel) << 40)
        ^ seq ^ 0x5eed5eed5eedULL);
}

template <std::size_t K>
struct scenario {
    const char* name;
    unsigned producers;
    std::array<std::size_t, K> caps;
    unsigned plain_per_channel;  // consumers doing recv/try_recv on one channel each
    unsigned select_consumers;   // consumers doing select fan-in over all channels
    bool closes;                 // close channels at random points mid-stream
    std::uint64_t messages;      // messages the producers try to send, at scale 1
};

// Everything the tasks of one run share. Owned by the run's body, which outlives them.
template <std::size_t K>
struct shared {
    std::array<gorun::channel<message>, K> ch;
    std::array<std::atomic<bool>, K> closing{};  // set just before ch[k].close(), once
    std::array<std::uint64_t, K> close_at{};     // close ch[k] at this many sends (0: at the end)
    std::atomic<std::uint64_t> sent{0};          // successful sends so far
    std::atomic<std::uint64_t> unexpected_closed{0};
    std::vector<std::array<std::uint64_t, K>> sent_per;  // [producer][channel], by the producer
    std::vector<std::vector<message>> logs;              // [consumer], by the consumer
    std::vector<int> consumer_channel;                   // [consumer]: channel, or -1 (select)

    void close_once(std::size_t k) {
        if (!closing[k].exchange(true))
            ch[k].close();
    }
};

// ---- producers ----

template <std::size_t K>
gorun::task<> producer(shared<K>* sh, std::uint32_t id, std::uint64_t n, std::uint64_t seed) {
    rng r(seed);
    std::array<bool, K> alive;
    alive.fill(true);
    std::size_t nalive = K;
    std::array<std::uint64_t, K> seq{};
    auto pick = [&](std::size_t skip) {
        std::size_t choices = nalive - (skip < K ? 1 : 0);
        std::size_t nth = r.below(choices);
        for (std::size_t k = 0; k < K; ++k)
            if (alive[k] && k != skip && nth-- == 0)
                return k;
        return K;  // unreachable
    };
    auto make = [&](std::size_t k) {
        auto c = static_cast<std::uint32_t>(k);
        return message{id, c, seq[k], payload_hash(id, c, seq[k])};
    };
    auto kill = [&](std::size_t k) {
        if (alive[k]) {
            alive[k] = false;
            --nalive;
        }
    };
    for (std::uint64_t i = 0; i < n && nalive > 0; ++i) {
        std::size_t k = pick(K);
        std::size_t j = K;  // the second channel of a two-channel select
        std::size_t committed = K;
        try {
            switch (r.below(4)) {
                case 0:
                    co_await sh->ch[k].send(make(k));
                    committed = k;
                    break;
                case 1:
                    if (!sh->ch[k].try_send(make(k)))
                        co_await sh->ch[k].send(make(k));
                    committed = k;
                    break;
                case 2: {
                    auto s = co_await gorun::select(
                        gorun::send(sh->ch[k], make(k)), gorun::default_case);
                    if (s.index == 1)
                        co_await sh->ch[k].send(make(k));
                    committed = k;
                    break;
                }
                default: {
                    if (nalive < 2) {
                        co_await sh->ch[k].send(make(k));
                        committed = k;
                        break;
                    }
                    j = pick(k);
                    // SEL-1: exactly one of the two commits; the other's sequence number is
                    // reused by the next message on that channel, so a double commit would
                    // show as a duplicate.
                    auto s = co_await gorun::select(
                        gorun::send(sh->ch[k], make(k)), gorun::send(sh->ch[j], make(j)));
                    committed = s.index == 0 ? k : j;
                    break;
                }
            }
        } catch (const gorun::channel_closed&) {
            // The closer flags a channel before closing it, so a closed one is flagged.
            bool found = false;
            for (std::size_t c : {k, j})
                if (c < K && sh->closing[c].load()) {
                    kill(c);
                    found = true;
                }
            if (!found)
                sh->unexpected_closed.fetch_add(1);
            continue;
        }
        sh->sent_per[id][committed] = ++seq[committed];
        std::uint64_t total = sh->sent.fetch_add(1) + 1;
        for (std::size_t c = 0; c < K; ++c)
            if (sh->close_at[c] == total)
                sh->close_once(c);
    }
}

// ---- consumers ----

// recv and try_recv on one channel until it is closed and drained.
template <std::size_t K>
gorun::task<> plain_consumer(shared<K>* sh, std::size_t slot, std::size_t k, std::uint64_t seed) {
    rng r(seed);
    gorun::channel<message> ch = sh->ch[k];
    std::vector<message> log;
    for (;;) {
        if (r.below(4) == 0) {
            auto t = ch.try_recv();
            if (t.status == gorun::recv_status::closed)
                break;
            if (t.status == gorun::recv_status::empty) {
                co_await gorun::yield();
                continue;
            }
            log.push_back(*t.value);
        } else {
            auto v = co_await ch.recv();
            if (!v)
                break;
            log.push_back(*v);
        }
    }
    sh->logs[slot] = std::move(log);
}

template <std::size_t K, std::size_t... I>
auto select_all(std::array<gorun::channel<message>, K>& c, std::index_sequence<I...>) {
    return gorun::select(gorun::recv(c[I])...);
}
template <std::size_t K, std::size_t... I>
auto select_all_or_default(std::array<gorun::channel<message>, K>& c, std::index_sequence<I...>) {
    return gorun::select(gorun::recv(c[I])..., gorun::default_case);
}
template <class R, std::size_t... I>
std::optional<message> value_of(R& r, std::index_sequence<I...>) {
    std::optional<message> out;
    ((r.index == static_cast<int>(I) ? (void)(out = std::move(r.template get<I>())) : (void)0),
     ...);
    return out;
}

// Select fan-in over every channel; a closed channel is dropped (set to nil, as Go code does)
// once it reports closed. With a default case, an empty round yields and tries again.
template <std::size_t K>
gorun::task<> select_consumer(shared<K>* sh, std::size_t slot, bool with_default) {
    constexpr auto idx = std::make_index_sequence<K>{};
    std::array<gorun::channel<message>, K> chans = sh->ch;
    std::size_t open = K;
    std::vector<message> log;
    while (open > 0) {
        int fired;
        std::optional<message> v;
        if (with_default) {
            auto r = co_await select_all_or_default(chans, idx);
            fired = r.index;
            if (fired < static_cast<int>(K))
                v = value_of(r, idx);
        } else {
            auto r = co_await select_all(chans, idx);
            fired = r.index;
            v = value_of(r, idx);
        }
        if (fired == static_cast<int>(K)) {  // default: nothing ready
            co_await gorun::yield();
            continue;
        }
        if (!v) {
            chans[static_cast<std::size_t>(fired)] = {};
            --open;
            continue;
        }
        log.push_back(*v);
    }
    sh->logs[slot] = std::move(log);
}

// ---- the checks ----

template <std::size_t K>
void verify(const scenario<K>& sc, shared<K>& sh) {
    INFO("scenario: " << sc.name << ", workers: " << gorun::test::workers());
    const std::size_t P = sc.producers;
    std::uint64_t sent_total = 0, sent_sum = 0;
    std::vector<std::array<std::vector<char>, K>> seen(P);
    for (std::size_t p = 0; p < P; ++p)
        for (std::size_t k = 0; k < K; ++k) {
            std::uint64_t n = sh.sent_per[p][k];
            seen[p][k].assign(n, 0);
            sent_total += n;
            for (std::uint64_t s = 0; s < n; ++s)
                sent_sum +=
                    payload_hash(static_cast<std::uint32_t>(p), static_cast<std::uint32_t>(k), s);
        }
    CHECK(sent_total == sh.sent.load());

    std::array<unsigned, K> consumers_of{};
    for (int c : sh.consumer_channel)
        for (std::size_t k = 0; k < K; ++k)
            if (c < 0 || static_cast<std::size_t>(c) == k)
                ++consumers_of[k];

    std::uint64_t received = 0, received_sum = 0, bad_hash = 0, bad_channel = 0, phantoms = 0,
                  duplicates = 0, fifo = 0, gaps = 0;
    for (std::size_t c = 0; c < sh.logs.size(); ++c) {
        // Per consumer: the next sequence number expected per (producer, channel).
        std::vector<std::array<std::uint64_t, K>> next(P, std::array<std::uint64_t, K>{});
        for (const message& m : sh.logs[c]) {
            ++received;
            received_sum += m.hash;
            if (m.producer >= P || m.channel >= K) {
                ++bad_channel;
                continue;
            }
            if (sh.consumer_channel[c] >= 0
                && m.channel != static_cast<std::uint32_t>(sh.consumer_channel[c]))
                ++bad_channel;  // a plain consumer got a message from another channel
            if (m.hash != payload_hash(m.producer, m.channel, m.seq))
                ++bad_hash;
            auto& s = seen[m.producer][m.channel];
            if (m.seq >= s.size())
                ++phantoms;  // from a send that threw, or never made
            else if (s[m.seq]++)
                ++duplicates;
            auto& expect = next[m.producer][m.channel];
            if (m.seq < expect)
                ++fifo;
            else if (m.seq > expect && consumers_of[m.channel] == 1)
                ++gaps;  // a single consumer must see every sequence number, in order
            expect = m.seq + 1;
        }
    }
    std::uint64_t lost = 0;
    for (auto& per : seen)
        for (auto& s : per)
            for (char x : s)
                lost += x == 0;

    CAPTURE(sent_total);
    // The volume moved, for the record (the issue asks for a 10M-message release run).
    std::printf(
        "stress_channel_test: scenario %s, %u workers: %llu messages delivered and checked\n",
        sc.name,
        gorun::test::workers(),
        static_cast<unsigned long long>(received));
    CHECK(sh.unexpected_closed.load() == 0);
    CHECK(received == sent_total);
    CHECK(duplicates == 0);
    CHECK(lost == 0);
    CHECK(phantoms == 0);
    CHECK(fifo == 0);
    CHECK(gaps == 0);
    CHECK(bad_hash == 0);
    CHECK(bad_channel == 0);
    CHECK(received_sum == sent_sum);
    // Closes happened mid-stream where asked (channel 1's threshold is always reached: only
    // channels that close stop producers, and channel 0 never does before the end).
    if (sc.closes)
        CHECK(sh.close_at[1] <= sent_total);
    // The run moved a real volume: closes stop producers on some channels, never on all.
    CHECK(
        sent_total * 2
        >= sc.messages * gorun::test::stress_scale() / (gorun::test::sanitized() ? 10 : 1));
}

// ---- one run ----

template <std::size_t K>
gorun::task<> run_scenario(const scenario<K>& sc) {
    const std::uint64_t base = sc.messages * gorun::test::stress_scale();
    const std::uint64_t total = gorun::test::sanitized() ? base / 10 : base;
    rng r(test_seed() ^ splitmix64(gorun::test::workers()) ^ splitmix64(sc.producers * 131 + K));

    shared<K> sh;
    for (std::size_t k = 0; k < K; ++k)
        sh.ch[k] = gorun::channel<message>(sc.caps[k]);
    if (sc.closes) {
        // Channel 0 stays open to the end; channel 1 closes somewhere in the middle half of the
        // stream, and each other channel does so with probability 2/3.
        for (std::size_t k = 1; k < K; ++k)
            if (k == 1 || r.below(3) != 0)
                sh.close_at[k] = total / 4 + r.below(std::max<std::uint64_t>(1, total / 2)) + 1;
    }
    sh.sent_per.assign(sc.producers, std::array<std::uint64_t, K>{});
    const std::size_t nconsumers = K * sc.plain_per_channel + sc.select_consumers;
    sh.logs.resize(nconsumers);
    sh.consumer_channel.assign(nconsumers, -1);

    gorun::wait_group producers, consumers;
    std::size_t slot = 0;
    for (std::size_t k = 0; k < K; ++k)
        for (unsigned i = 0; i < sc.plain_per_channel; ++i, ++slot) {
            sh.consumer_channel[slot] = static_cast<int>(k);
            consumers.go(plain_consumer<K>, &sh, slot, k, r());
        }
    for (unsigned i = 0; i < sc.select_consumers; ++i, ++slot)
        consumers.go(select_consumer<K>, &sh, slot, i % 2 == 0);
    const std::uint64_t per = total / sc.producers;
    for (unsigned p = 0; p < sc.producers; ++p)
        producers.go(producer<K>, &sh, static_cast<std::uint32_t>(p), per, r());

    co_await producers.wait();
    for (std::size_t k = 0; k < K; ++k)  // CH-4: close ends the consumers once drained
        sh.close_once(k);
    co_await consumers.wait();
    verify(sc, sh);
}

gorun::runtime_options seeded() {
    gorun::runtime_options o;
    o.seed = test_seed();
    return o;
}

// Scale 1: 4 scenarios x 3 worker counts x ~16,000 messages = ~200,000 messages.
constexpr scenario<3> fifo_scenario{"fifo", 4, {0, 1, 64}, 1, 0, false, 16'000};
constexpr scenario<3> fan_in_scenario{"fan-in", 6, {0, 1, 64}, 0, 3, true, 16'000};
constexpr scenario<6> mixed_scenario{"mixed", 8, {0, 1, 64, 0, 1, 64}, 1, 2, true, 16'000};
constexpr scenario<3> crowd_scenario{"crowd", 4, {0, 1, 64}, 3, 1, true, 16'000};

void run_all_workers(gorun::test::body_fn body) {
    for (unsigned workers : {1u, 2u, 4u}) {
        CAPTURE(workers);
        gorun::test::run_body(body, workers, seeded());
    }
}

}  // namespace

TEST_CASE("CH-3: one consumer per channel receives every producer's messages exactly once and in "
          "order") {
    run_all_workers(+[]() -> gorun::task<> { co_await run_scenario(fifo_scenario); });
}

TEST_CASE("CH-3, CH-4, SEL-1: select fan-in consumers, some with default, lose and duplicate "
          "nothing while channels close mid-stream") {
    run_all_workers(+[]() -> gorun::task<> { co_await run_scenario(fan_in_scenario); });
}

TEST_CASE("CH-3, CH-4, SEL-1: plain and select consumers on six channels account for every "
          "successful send across random closes") {
    run_all_workers(+[]() -> gorun::task<> { co_await run_scenario(mixed_scenario); });
}

TEST_CASE("CH-3, CH-4: several consumers per channel see each producer's messages in order and "
          "exactly once across random closes") {
    run_all_workers(+[]() -> gorun::task<> { co_await run_scenario(crowd_scenario); });
}
