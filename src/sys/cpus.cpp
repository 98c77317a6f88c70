// See cpus.hpp.
#include "sys/cpus.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sched.h>
#include <string>

namespace gorun::detail {

namespace {

// The smallest ceil(quota/period) over the cgroup v2 path of this process and its ancestors,
// or 0 when unlimited or unknown.
unsigned cgroup_cpu_limit() {
    std::ifstream cg("/proc/self/cgroup");
    std::string line, path;
    while (std::getline(cg, line)) {
        if (line.rfind("0::", 0) == 0) {
            path = line.substr(3);
            break;
        }
    }
    if (path.empty())
        return 0;
    unsigned best = 0;
    for (;;) {
        std::ifstream f("/sys/fs/cgroup" + path + "/cpu.max");
        std::string quota;
        long long period = 0;
        if (f >> quota >> period && quota != "max" && period > 0) {
            long long q = std::atoll(quota.c_str());
            if (q > 0) {
                auto n = static_cast<unsigned>((q + period - 1) / period);
                if (best == 0 || n < best)
                    best = n;
            }
        }
        if (path.empty() || path == "/")
            break;
        auto slash = path.rfind('/');
        path = slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
    }
    return best;
}

}  // namespace

unsigned default_worker_count() noexcept {
    if (const char* env = std::getenv("GORUN_MAXPROCS")) {
        char* end = nullptr;
        long v = std::strtol(env, &end, 10);
        if (end != env && *end == '\0' && v > 0 && v <= 4096)
            return static_cast<unsigned>(v);
        std::fprintf(stderr, "gorun: ignoring GORUN_MAXPROCS=%s (want a positive integer)\n", env);
    }
    unsigned n = 1;
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        n = static_cast<unsigned>(CPU_COUNT(&set));
    try {
        unsigned quota = cgroup_cpu_limit();
        if (quota > 0 && quota < n)
            n = quota;
    } catch (...) {
        // Unreadable cgroup files: keep the affinity count.
    }
    return n > 0 ? n : 1;
}

}  // namespace gorun::detail
