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
#include <utility>

namespace gorun {

/// The runtime could not be started. what() names the cause and how to fix it; code() holds
/// the errno (std::generic_category).
class setup_error : public std::system_error {
public:
    setup_error(int err, std::string what)
        : std::system_error(err, std::generic_category())
        , what_(std::move(what)) {}
    /// The full message (std::system_error's own would append strerror to it).
    const char* what() const noexcept override { return what_.c_str(); }

private:
    std::string what_;
};

}  // namespace gorun
