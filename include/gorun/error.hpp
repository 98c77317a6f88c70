// gorun/error.hpp — errors the runtime itself reports.
//
// setup_error is what gorun::run / gorun::runtime throw when the runtime cannot start: most
// often because io_uring is unavailable (a seccomp filter, the kernel.io_uring_disabled sysctl,
// a kernel without io_uring, a too-small locked-memory limit). Its message names the cause and
// the fix; code() carries the errno.
#pragma once

#include <gorun/config.hpp>

#include <string>
#include <system_error>

namespace gorun {

/// The runtime could not be started. what() names the cause and how to fix it.
class setup_error : public std::system_error {
public:
    setup_error(int err, const std::string& what)
        : std::system_error(err, std::generic_category(), what) {}
};

}  // namespace gorun
