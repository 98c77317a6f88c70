// gorun/net/resolve.hpp — host names to addresses, without blocking a worker.
//
//     auto addrs = co_await gorun::net::resolve("localhost", 8080);   // io_result<vector<address>>
//     if (!addrs) { fmt::print("resolve: {}\n", addrs.error().message()); co_return; }
//     auto c = co_await gorun::net::tcp_stream::connect(addrs->front());
//
// A numeric host ("127.0.0.1", "::1", "fe80::1%eth0") is parsed in place and returned at
// once, without a thread hop. Anything else goes to getaddrinfo(3) on the runtime's blocking
// pool (gorun::blocking), since getaddrinfo blocks and io_uring has no resolver: it honours
// /etc/hosts, nsswitch.conf and resolv.conf like every other program on the machine.
//
// Errors: getaddrinfo's EAI_* codes are std::error_codes in resolve_category() (name
// "gorun.resolve", messages from gai_strerror), comparable to resolve_errc values — for example
// `ec == gorun::net::resolve_errc::host_not_found`. Two codes map elsewhere: EAI_SYSTEM to the
// errno it stands for and EAI_MEMORY to ENOMEM, both in std::generic_category(). Which code a
// missing name gets depends on the resolver set-up (host_not_found from files or a DNS answer,
// temporary_failure when no name server can be reached), as in C.
#pragma once

#include <gorun/io_control.hpp>
#include <gorun/io_result.hpp>
#include <gorun/net/address.hpp>
#include <gorun/task.hpp>

#include <cstdint>
#include <string>
#include <system_error>
#include <type_traits>
#include <vector>

namespace gorun::net {

/// getaddrinfo's failures (the values are glibc's EAI_* constants; a static_assert in the
/// implementation checks them).
enum class resolve_errc {
    bad_flags = -1,             ///< EAI_BADFLAGS
    host_not_found = -2,        ///< EAI_NONAME: no such host (or service)
    temporary_failure = -3,     ///< EAI_AGAIN: try again later (a name server did not answer)
    permanent_failure = -4,     ///< EAI_FAIL: a name server failed for good
    no_address = -5,            ///< EAI_NODATA: the host exists but has no address
    bad_family = -6,            ///< EAI_FAMILY
    bad_socket_type = -7,       ///< EAI_SOCKTYPE
    bad_service = -8,           ///< EAI_SERVICE
    no_address_in_family = -9,  ///< EAI_ADDRFAMILY: no address of the asked family
};

/// The category of resolve_errc codes: name "gorun.resolve", message() from gai_strerror.
///
/// Thread-safety: a constant object.
const std::error_category& resolve_category() noexcept;

/// A std::error_code in resolve_category() (lets `ec == resolve_errc::...` compile).
inline std::error_code make_error_code(resolve_errc e) noexcept {
    return {static_cast<int>(e), resolve_category()};
}

/// The addresses of `host` with `port`, in the resolver's order of preference, without
/// duplicates; IPv4 and IPv6 both.
///
/// Suspends: only for a non-numeric host, until getaddrinfo returns on the blocking pool.
/// Thread-safety: call from a gorun task. Cancellation: `ctl` is checked before the lookup
/// starts and again when it returns (ECANCELED, ETIMEDOUT); getaddrinfo itself cannot be
/// interrupted, so a lookup in progress runs to its end first.
/// Errors: resolve_errc codes (see the top of this header), ENOMEM, the errno behind
/// EAI_SYSTEM, EINVAL for a host with a NUL byte.
[[nodiscard]] task<io_result<std::vector<address>>>
resolve(std::string host, std::uint16_t port, io_control ctl = {});

}  // namespace gorun::net

template <>
struct std::is_error_code_enum<gorun::net::resolve_errc> : std::true_type {};
