// gorun-bench: one benchmark per invocation, one `name value unit` line per figure.
//
//     build/release/bench/gorun-bench --list
//     build/release/bench/gorun-bench skynet
//
// Run side by side with the Go peers in bench/go/ by bench/compare.sh. Exits non-zero when a
// benchmark's result is wrong (a checksum), so a fast wrong answer never looks like a win.
#include <gorun/gorun.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
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
};

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || std::strcmp(argv[1], "--help") == 0) {
        fmt::print("usage: gorun-bench --list | NAME [ARGS]\n");
        for (const auto& b : benches)
            fmt::print("  {:<12} {}\n", b.name, b.what);
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
