// gorun-bench: one benchmark per invocation, one `name value unit` line per figure.
//
//     build/release/bench/gorun-bench --list
//     build/release/bench/gorun-bench skynet
//
// Run side by side with the Go peers in bench/go/ by bench/compare.sh. Exits non-zero when a
// benchmark's result is wrong (a checksum), so a fast wrong answer never looks like a win.
#include <gorun/channel.hpp>
#include <gorun/gorun.hpp>
#include <gorun/select.hpp>
#include <gorun/uring.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string_view>
#include <vector>

namespace {

using bench_clock = std::chrono::steady_clock;

// Each benchmark runs once untimed (warm-up: frame caches, page faults) and then `reps` times,
// and reports the median: a 2-vCPU VM loses whole milliseconds to the hypervisor now and then,
// which would otherwise dominate a 15 ms run. The Go peers do exactly the same.
constexpr int reps = 5;

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

double ms_since(bench_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(bench_clock::now() - t0).count();
}

double ns_since(bench_clock::time_point t0) {
    return std::chrono::duration<double, std::nano>(bench_clock::now() - t0).count();
}

// GORUN_BENCH_VERBOSE=1: each repetition's figure on stderr (rep 0 is the warm-up), to see
// the spread behind a median.
void verbose_rep(std::string_view name, int rep, double value) {
    if (std::getenv("GORUN_BENCH_VERBOSE"))
        fmt::print(stderr, "{} rep {}: {:.3f}\n", name, rep, value);
}

// GORUN_BENCH_DUMP=1: the runtime's counters (parks, wakes, steals) on stderr at the end.
void dump_if_asked() {
    if (std::getenv("GORUN_BENCH_DUMP"))
        gorun::dump_all_runtimes(stderr);
}

// ---- skynet: 1,111,111 tasks, a 10-ary tree 6 levels deep; leaves return 0..999,999 ----
gorun::task<std::int64_t> skynet(std::int64_t num, std::int64_t size) {
    if (size == 1)
        co_return num;
    std::int64_t sub = size / 10;
    gorun::join_handle<std::int64_t> children[10];
    for (std::int64_t i = 0; i < 10; ++i)
        children[i] = gorun::spawn(skynet, num + i * sub, sub);
    std::int64_t sum = 0;
    for (auto& c : children)
        sum += co_await c;
    co_return sum;
}

gorun::task<int> skynet_main() {
    std::vector<double> times;
    for (int r = 0; r <= reps; ++r) {
        auto t0 = bench_clock::now();
        std::int64_t sum = co_await skynet(0, 1'000'000);
        double ms = ms_since(t0);
        if (sum != 499'999'500'000) {
            fmt::print(stderr, "skynet: wrong sum {}\n", sum);
            co_return 1;
        }
        if (r > 0)
            times.push_back(ms);
    }
    fmt::print("skynet {:.3f} ms\n", median(times));
    if (std::getenv("GORUN_BENCH_DUMP"))
        gorun::dump_all_runtimes(stderr);
    co_return 0;
}

// ---- io_nop: an io_uring NOP awaited alone vs by many tasks in one scheduler pass ----
gorun::task<> nop_loop(int n) {
    for (int i = 0; i < n; ++i)
        if (co_await gorun::uring::op([](io_uring_sqe* sqe) { io_uring_prep_nop(sqe); }) != 0)
            std::abort();
}

// The floor: the same NOPs on a plain liburing ring (the flags gorun's rings get), no tasks.
int io_nop_raw() {
    io_uring r;
    io_uring_params p{};
    p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
    if (io_uring_queue_init_params(256, &r, &p) < 0)
        return 1;
    io_uring_register_ring_fd(&r);
    constexpr int ops = 200'000;
    for (int batch : {1, 32}) {
        std::vector<double> per_op;
        for (int rep = 0; rep <= reps; ++rep) {
            auto t0 = bench_clock::now();
            int seen = 0;
            for (int i = 0; i < ops; i += batch) {
                for (int k = 0; k < batch; ++k)
                    io_uring_prep_nop(io_uring_get_sqe(&r));
                io_uring_submit_and_get_events(&r);
                io_uring_cqe* c;
                unsigned head, m = 0;
                io_uring_for_each_cqe(&r, head, c) {
                    ++m;
                }
                io_uring_cq_advance(&r, m);
                seen += static_cast<int>(m);
            }
            if (seen != ops)
                return 1;
            if (rep > 0)
                per_op.push_back(ns_since(t0) / ops);
        }
        fmt::print("io_nop_raw_batch{} {:.1f} ns/op\n", batch, median(per_op));
    }
    io_uring_queue_exit(&r);
    return 0;
}

gorun::task<int> io_nop_main() {
    constexpr int ops = 200'000;
    for (int tasks : {1, 32}) {
        std::vector<double> per_op;
        double enters_per_op = 0;
        for (int r = 0; r <= reps; ++r) {
            auto m0 = gorun::metrics();
            auto t0 = bench_clock::now();
            gorun::wait_group wg;
            for (int t = 0; t < tasks; ++t)
                wg.go(nop_loop, ops / tasks);
            co_await wg.wait();
            double ns = ns_since(t0);
            auto m1 = gorun::metrics();
            if (m1.io_ops - m0.io_ops != static_cast<std::uint64_t>(ops)) {
                fmt::print(
                    stderr, "io_nop: {} ops counted, {} expected\n", m1.io_ops - m0.io_ops, ops);
                co_return 1;
            }
            if (r > 0) {
                per_op.push_back(ns / ops);
                enters_per_op = static_cast<double>(m1.io_enters - m0.io_enters) / ops;
            }
        }
        fmt::print("io_nop_tasks{} {:.1f} ns/op\n", tasks, median(per_op));
        fmt::print("io_nop_tasks{}_enters {:.3f} enters/op\n", tasks, enters_per_op);
    }
    co_return 0;
}

// ---- spawn_join: spawn and join empty tasks in batches of 1000 ----
gorun::task<int> empty_task() {
    co_return 1;
}

gorun::task<int> spawn_join_main(std::int64_t n) {
    constexpr int batch = 1000;
    static gorun::join_handle<int> handles[batch];
    std::vector<double> per_task;
    for (int r = 0; r <= reps; ++r) {
        std::int64_t joined = 0;
        auto t0 = bench_clock::now();
        for (std::int64_t done = 0; done < n; done += batch) {
            int k = static_cast<int>(std::min<std::int64_t>(batch, n - done));
            for (int i = 0; i < k; ++i)
                handles[i] = gorun::spawn(empty_task);
            for (int i = 0; i < k; ++i)
                joined += co_await handles[i];
        }
        double ns = std::chrono::duration<double, std::nano>(bench_clock::now() - t0).count();
        if (joined != n) {
            fmt::print(stderr, "spawn_join: joined {} of {}\n", joined, n);
            co_return 1;
        }
        if (r > 0)
            per_task.push_back(ns / static_cast<double>(n));
    }
    fmt::print("spawn_join {:.2f} ns/task\n", median(per_task));
    if (std::getenv("GORUN_BENCH_DUMP"))
        gorun::dump_all_runtimes(stderr);
    co_return 0;
}

// ---- chan_pingpong_*: two tasks bounce an int over two channels (ping, pong) ----
gorun::task<> echo(gorun::channel<int> ping, gorun::channel<int> pong) {
    while (auto v = co_await ping.recv())
        co_await pong.send(*v);
}

// `n` round trips between this task and an echo task; ns per round trip.
gorun::task<int> pingpong_main(std::string_view name, std::size_t cap) {
    constexpr int n = 1'000'000;
    std::vector<double> per_rt;
    for (int r = 0; r <= reps; ++r) {
        gorun::channel<int> ping(cap);
        gorun::channel<int> pong(cap);
        gorun::wait_group wg;
        wg.go(echo, ping, pong);
        int bad = -1;
        auto t0 = bench_clock::now();
        for (int i = 0; i < n; ++i) {
            co_await ping.send(i);
            auto v = co_await pong.recv();
            if (!v || *v != i) {
                bad = i;
                break;
            }
        }
        double ns = ns_since(t0);
        ping.close();
        co_await wg.wait();
        if (bad >= 0) {
            fmt::print(stderr, "{}: round trip {} came back wrong\n", name, bad);
            co_return 1;
        }
        if (r > 0)
            per_rt.push_back(ns / n);
    }
    fmt::print("{} {:.2f} ns/roundtrip\n", name, median(per_rt));
    co_return 0;
}

// ---- chan_mpmc_*: producers send disjoint ranges of ints on one channel (capacity 1024);
// the channel is closed once every producer is done; consumers drain it and sum ----
gorun::task<> produce_range(gorun::channel<int> ch, int first, int count) {
    for (int i = 0; i < count; ++i)
        co_await ch.send(first + i);
}

struct tally {
    std::int64_t count = 0;
    std::int64_t sum = 0;
};

gorun::task<> consume_all(gorun::channel<int> ch, tally* out) {
    tally t;
    while (auto v = co_await ch.recv()) {
        ++t.count;
        t.sum += *v;
    }
    *out = t;
}

// Checks that the values 0..total-1 each arrived once (count and sum).
bool check_tally(std::string_view name, const std::vector<tally>& ts, std::int64_t total) {
    tally all;
    for (const auto& t : ts) {
        all.count += t.count;
        all.sum += t.sum;
    }
    if (all.count != total || all.sum != total * (total - 1) / 2) {
        fmt::print(
            stderr,
            "{}: received {} values summing to {}, want {} summing to {}\n",
            name,
            all.count,
            all.sum,
            total,
            total * (total - 1) / 2);
        return false;
    }
    return true;
}

gorun::task<int> mpmc_main(std::string_view name, int producers, int consumers, int per_producer) {
    const std::int64_t total = std::int64_t{producers} * per_producer;
    std::vector<double> rates;
    for (int r = 0; r <= reps; ++r) {
        gorun::channel<int> ch(1024);
        gorun::wait_group pwg;
        gorun::wait_group cwg;
        std::vector<tally> tallies(consumers);
        auto t0 = bench_clock::now();
        for (int c = 0; c < consumers; ++c)
            cwg.go(consume_all, ch, &tallies[c]);
        for (int p = 0; p < producers; ++p)
            pwg.go(produce_range, ch, p * per_producer, per_producer);
        co_await pwg.wait();
        ch.close();
        co_await cwg.wait();
        double ns = ns_since(t0);
        if (!check_tally(name, tallies, total))
            co_return 1;
        if (r > 0)
            rates.push_back(static_cast<double>(total) / ns * 1e3);  // items/ns * 1e3 = M/s
        verbose_rep(name, r, static_cast<double>(total) / ns * 1e3);
    }
    fmt::print("{} {:.3f} Mitems/s\n", name, median(rates));
    dump_if_asked();
    co_return 0;
}

// ---- select4_*: 4 producers, each on its own channel which it closes when done; one consumer
// selects over the 4 until all are closed, replacing a closed one by a nil channel (never
// chosen again), as Go code sets it to nil ----
gorun::task<> produce_then_close(gorun::channel<int> ch, int first, int count) {
    for (int i = 0; i < count; ++i)
        co_await ch.send(first + i);
    ch.close();
}

gorun::task<> select4_consumer(
    gorun::channel<int> c0,
    gorun::channel<int> c1,
    gorun::channel<int> c2,
    gorun::channel<int> c3,
    tally* out) {
    tally t;
    int open = 4;
    auto take = [&](std::optional<int>& v, gorun::channel<int>& ch) {
        if (v) {
            ++t.count;
            t.sum += *v;
        } else {
            ch = gorun::channel<int>();
            --open;
        }
    };
    while (open > 0) {
        auto r = co_await gorun::select(
            gorun::recv(c0), gorun::recv(c1), gorun::recv(c2), gorun::recv(c3));
        switch (r.index) {
            case 0:
                take(r.get<0>(), c0);
                break;
            case 1:
                take(r.get<1>(), c1);
                break;
            case 2:
                take(r.get<2>(), c2);
                break;
            case 3:
                take(r.get<3>(), c3);
                break;
        }
    }
    *out = t;
}

gorun::task<int> select4_main(std::string_view name, std::size_t cap) {
    constexpr int per_producer = 2'500'000;
    constexpr std::int64_t total = 4 * std::int64_t{per_producer};
    std::vector<double> rates;
    for (int r = 0; r <= reps; ++r) {
        gorun::channel<int> c[4] = {
            gorun::channel<int>(cap),
            gorun::channel<int>(cap),
            gorun::channel<int>(cap),
            gorun::channel<int>(cap)};
        gorun::wait_group wg;
        std::vector<tally> tallies(1);
        auto t0 = bench_clock::now();
        wg.go(select4_consumer, c[0], c[1], c[2], c[3], &tallies[0]);
        for (int p = 0; p < 4; ++p)
            wg.go(produce_then_close, c[p], p * per_producer, per_producer);
        co_await wg.wait();
        double ns = ns_since(t0);
        if (!check_tally(name, tallies, total))
            co_return 1;
        if (r > 0)
            rates.push_back(static_cast<double>(total) / ns * 1e3);
        verbose_rep(name, r, static_cast<double>(total) / ns * 1e3);
    }
    fmt::print("{} {:.3f} Mitems/s\n", name, median(rates));
    dump_if_asked();
    co_return 0;
}

// ---- parked_task_bytes: resident memory per task blocked in recv ----
// VmRSS of this process in bytes (from /proc/self/status), or -1.
long long rss_bytes() {
    std::FILE* f = std::fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long long kb = -1;
    while (std::fgets(line, sizeof line, f))
        if (std::strncmp(line, "VmRSS:", 6) == 0) {
            kb = std::atoll(line + 6);
            break;
        }
    std::fclose(f);
    return kb < 0 ? -1 : kb * 1024;
}

gorun::task<>
parked(gorun::channel<int> ch, std::atomic<std::int64_t>* started, gorun::wait_group* wg) {
    started->fetch_add(1, std::memory_order_relaxed);
    (void)co_await ch.recv();
    wg->done();
}

// A single measurement, no warm-up and no median: a warm-up would leave its frames cached
// and so hide the very memory being measured. The Go peer does the same.
gorun::task<int> parked_main() {
    constexpr std::int64_t n = 1'000'000;
    gorun::channel<int> ch(0);
    std::atomic<std::int64_t> started{0};
    gorun::wait_group wg;
    long long before = rss_bytes();
    wg.add(n);
    for (std::int64_t i = 0; i < n; ++i)
        gorun::go(parked, ch, &started, &wg);
    while (started.load(std::memory_order_relaxed) < n)
        co_await gorun::yield();
    // The last tasks counted may still be on their way into recv: let them park.
    for (int i = 0; i < 10; ++i)
        co_await gorun::yield();
    long long after = rss_bytes();
    ch.close();
    co_await wg.wait();
    if (before < 0 || after < 0) {
        fmt::print(stderr, "parked_task_bytes: cannot read VmRSS from /proc/self/status\n");
        co_return 1;
    }
    if (wg.count() != 0 || started.load() != n) {
        fmt::print(stderr, "parked_task_bytes: {} of {} tasks started\n", started.load(), n);
        co_return 1;
    }
    fmt::print("parked_task_bytes {:.1f} B/task\n", static_cast<double>(after - before) / n);
    co_return 0;
}

// ---- io_accept: tcp_listener::accept with one multishot accept vs one accept op per call ----
// 5,000 loopback connections per repetition (32 connecting at a time), one worker; ns per
// connection (connect + accept + both closes) and io_uring ops per connection, both forms in
// one run (the single-shot form through the test hook that a pre-5.19 kernel would take).
gorun::task<int> io_accept_main() {
    constexpr int conns = 5'000;
    constexpr int parallel = 32;
    for (bool single : {false, true}) {
        gorun::net::detail::tcp_accept_force_single_shot(single);
        std::vector<double> per_conn;
        double ops_per_conn = 0;
        for (int r = 0; r <= reps; ++r) {
            auto l = gorun::net::tcp_listener::listen(gorun::net::address::loopback_v4(0)).value();
            auto at = l.local_address().value();
            auto m0 = gorun::metrics();
            auto t0 = bench_clock::now();
            std::atomic<int> failed{0};
            gorun::wait_group clients;
            for (int c = 0; c < parallel; ++c)
                clients.go(
                    [](gorun::net::address at, int n, std::atomic<int>* failed) -> gorun::task<> {
                        for (int i = 0; i < n; ++i) {
                            auto s = co_await gorun::net::tcp_stream::connect(at);
                            if (!s)
                                failed->fetch_add(1);
                        }
                    },
                    at,
                    conns / parallel,
                    &failed);
            for (int i = 0; i < conns / parallel * parallel; ++i) {
                auto s = co_await l.accept();
                if (!s)
                    failed.fetch_add(1);
            }
            co_await clients.wait();
            double ns = ns_since(t0) / conns;
            auto m1 = gorun::metrics();
            if (failed.load() != 0) {
                fmt::print(stderr, "io_accept: {} connections failed\n", failed.load());
                co_return 1;
            }
            verbose_rep(single ? "io_accept_single" : "io_accept_multishot", r, ns);
            if (r > 0) {
                per_conn.push_back(ns);
                ops_per_conn = static_cast<double>(m1.io_ops - m0.io_ops) / conns;
            }
        }
        const char* name = single ? "io_accept_single" : "io_accept_multishot";
        fmt::print("{} {:.1f} ns/conn\n", name, median(per_conn));
        fmt::print("{}_ops {:.3f} ops/conn\n", name, ops_per_conn);
    }
    gorun::net::detail::tcp_accept_force_single_shot(false);
    co_return 0;
}

struct bench {
    std::string_view name;
    std::string_view what;
    std::function<int(int, char**)> run;
};

const bench benches[] = {
    {"skynet",
     "1,111,111 tasks spawned and joined as a 10-ary tree; wall time, median of 5 after a warm-up",
     [](int, char**) {
         return gorun::run(skynet_main());
     }},
    {"spawn_join",
     "spawn + join of an empty task, batches of 1000, N=1,000,000 (argv[2]); ns per task, "
     "median of 5 after a warm-up",
     [](int argc, char** argv) {
         std::int64_t n = argc > 2 ? std::atoll(argv[2]) : 1'000'000;
         if (n <= 0)
             n = 1'000'000;
         return gorun::run(spawn_join_main(n));
     }},
    {"chan_pingpong_unbuf",
     "1,000,000 round trips between two tasks over two unbuffered channels; ns per round "
     "trip, median of 5 after a warm-up",
     [](int, char**) {
         return gorun::run(pingpong_main("chan_pingpong_unbuf", 0));
     }},
    {"chan_pingpong_buf1",
     "as chan_pingpong_unbuf with capacity-1 channels",
     [](int, char**) {
         return gorun::run(pingpong_main("chan_pingpong_buf1", 1));
     }},
    {"chan_mpmc_1x1",
     "1 producer, 1 consumer, capacity 1024, 10,000,000 ints; Mitems/s, median of 5 after a "
     "warm-up",
     [](int, char**) {
         return gorun::run(mpmc_main("chan_mpmc_1x1", 1, 1, 10'000'000));
     }},
    {"chan_mpmc_4x4",
     "4 producers x 2,500,000 ints, 4 consumers, capacity 1024, closed when the producers are "
     "done; Mitems/s, median of 5 after a warm-up",
     [](int, char**) {
         return gorun::run(mpmc_main("chan_mpmc_4x4", 4, 4, 2'500'000));
     }},
    {"select4_unbuf",
     "4 producers x 2,500,000 ints on 4 unbuffered channels, one consumer selecting over "
     "them; Mitems/s, median of 5 after a warm-up",
     [](int, char**) {
         return gorun::run(select4_main("select4_unbuf", 0));
     }},
    {"select4_buf64",
     "as select4_unbuf with capacity-64 channels",
     [](int, char**) {
         return gorun::run(select4_main("select4_buf64", 64));
     }},
    {"io_nop",
     "200,000 io_uring NOPs awaited by 1 task (each op alone) and by 32 tasks (batched in one "
     "scheduler pass), one worker; ns per op and enters per op, median of 5 after a warm-up; "
     "and the same NOPs on a plain liburing ring (batches of 1 and 32) as the floor",
     [](int, char**) {
         if (io_nop_raw() != 0)
             return 1;
         gorun::runtime_options opts;
         opts.workers = 1;
         return gorun::run(io_nop_main(), opts);
     }},
    {"io_accept",
     "5,000 loopback TCP connections per repetition accepted by tcp_listener, with its one "
     "multishot accept and with one accept op per call (single), one worker; ns per connection "
     "and io_uring ops per connection (connects included), median of 5 after a warm-up",
     [](int, char**) {
         gorun::runtime_options opts;
         opts.workers = 1;
         return gorun::run(io_accept_main(), opts);
     }},
    {"parked_task_bytes",
     "resident bytes per task of 1,000,000 tasks parked in recv on one channel; a single "
     "measurement",
     [](int, char**) {
         return gorun::run(parked_main());
     }},
};

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || std::strcmp(argv[1], "--help") == 0) {
        fmt::print("usage: gorun-bench --list | NAME [ARGS]\n");
        for (const auto& b : benches)
            fmt::print("  {:<20} {}\n", b.name, b.what);
        return argc < 2 ? 2 : 0;
    }
    if (std::strcmp(argv[1], "--list") == 0) {
        for (const auto& b : benches)
            fmt::print("{}\n", b.name);
        return 0;
    }
    for (const auto& b : benches)
        if (b.name == argv[1])
            return b.run(argc, argv);
    fmt::print(stderr, "gorun-bench: unknown benchmark '{}' (see --list)\n", argv[1]);
    return 2;
}
