// Seeded randomness for stress tests: a per-process seed that replays a run, and a small fast
// generator per task (tasks must not share one: each derives its own from the seed).
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>

namespace gorun::test {

inline std::uint64_t splitmix64(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

// xorshift64*: never zero-seeded (splitmix64 of the seed, low bit set).
struct rng {
    std::uint64_t s;
    explicit rng(std::uint64_t seed)
        : s(splitmix64(seed) | 1) {}
    std::uint64_t operator()() {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        return s * 0x2545f4914f6cdd1dULL;
    }
    std::uint64_t below(std::uint64_t n) { return (*this)() % n; }
};

// The seed of this process: GORUN_TEST_SEED if set, else random; printed once on stderr as
// "<test>: GORUN_TEST_SEED=N replays".
inline std::uint64_t test_seed(const char* test) {
    static const std::uint64_t seed = [test] {
        std::uint64_t s = 0;
        if (const char* env = std::getenv("GORUN_TEST_SEED"))
            s = std::strtoull(env, nullptr, 10);
        if (s == 0) {
            std::random_device rd;
            s = ((static_cast<std::uint64_t>(rd()) << 32) ^ rd()) | 1;
        }
        std::fprintf(
            stderr, "%s: GORUN_TEST_SEED=%llu replays\n", test, static_cast<unsigned long long>(s));
        return s;
    }();
    return seed;
}

}  // namespace gorun::test
