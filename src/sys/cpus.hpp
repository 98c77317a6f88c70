// How many workers to run by default.
#pragma once

namespace gorun::detail {

// GORUN_MAXPROCS if set to a positive integer; else the CPUs this process may use: its
// affinity mask, further limited by a cgroup v2 CPU quota (cpu.max) on its cgroup or any
// ancestor, rounded up. At least 1.
unsigned default_worker_count() noexcept;

}  // namespace gorun::detail
