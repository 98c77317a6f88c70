// net::resolve (net/resolve.hpp): numeric hosts through address::parse, names through
// getaddrinfo on the blocking pool; EAI_* codes become resolve_category() error codes.
//
// Hints: AF_UNSPEC (both families), SOCK_STREAM so each address comes once rather than once
// per socket type (the address is the same for UDP), no AI_ADDRCONFIG: it hides IPv6 (or
// IPv4) answers on a machine whose only such address is loopback, so "localhost" would lose
// ::1 — Go's resolver leaves it off for the same reason.
#include <gorun/blocking.hpp>
#include <gorun/net/resolve.hpp>

#include "socket_ops.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <netdb.h>
#include <string_view>

namespace gorun::net {

static_assert(static_cast<int>(resolve_errc::bad_flags) == EAI_BADFLAGS);
static_assert(static_cast<int>(resolve_errc::host_not_found) == EAI_NONAME);
static_assert(static_cast<int>(resolve_errc::temporary_failure) == EAI_AGAIN);
static_assert(static_cast<int>(resolve_errc::permanent_failure) == EAI_FAIL);
static_assert(static_cast<int>(resolve_errc::no_address) == EAI_NODATA);
static_assert(static_cast<int>(resolve_errc::bad_family) == EAI_FAMILY);
static_assert(static_cast<int>(resolve_errc::bad_socket_type) == EAI_SOCKTYPE);
static_assert(static_cast<int>(resolve_errc::bad_service) == EAI_SERVICE);
static_assert(static_cast<int>(resolve_errc::no_address_in_family) == EAI_ADDRFAMILY);

namespace {

class resolve_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "gorun.resolve"; }
    std::string message(int v) const override { return ::gai_strerror(v); }
};

std::error_code gai_error(int rc, int saved_errno) noexcept {
    if (rc == EAI_SYSTEM)
        return socket_ops::errno_code(saved_errno != 0 ? saved_errno : EIO);
    if (rc == EAI_MEMORY)
        return socket_ops::errno_code(ENOMEM);
    return {rc, resolve_category()};
}

// A numeric host alone: "1.2.3.4" or an IPv6 literal (bare or in brackets, with a zone), not
// "host:port".
std::optional<address> numeric(std::string_view host) {
    if (host.find(':') == std::string_view::npos && host.find('[') == std::string_view::npos)
        return address::parse(host);  // IPv4 or nothing
    std::optional<address> a;
    if (host.front() == '[')
        a = host.back() == ']' ? address::parse(host) : std::nullopt;
    else
        a = address::parse(host);
    if (a && !a->is_v6())
        return std::nullopt;  // "1.2.3.4:80": a port where none belongs
    return a;
}

io_result<std::vector<address>> lookup(const std::string& host, std::uint16_t port) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* list = nullptr;
    errno = 0;
    int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &list);
    if (rc != 0)
        return gai_error(rc, errno);
    std::vector<address> out;
    for (addrinfo* ai = list; ai; ai = ai->ai_next) {
        auto a = address::from_native(ai->ai_addr, ai->ai_addrlen);
        if (!a)
            continue;
        a->set_port(port);
        if (std::find(out.begin(), out.end(), *a) == out.end())
            out.push_back(*a);
    }
    ::freeaddrinfo(list);
    if (out.empty())
        return std::error_code(resolve_errc::no_address);
    return out;
}

std::error_code ended(const io_control& ctl) noexcept {
    if (ctl.stop.stop_requested())
        return socket_ops::errno_code(ECANCELED);
    if (ctl.deadline != clock::time_point::max() && clock::now() >= ctl.deadline)
        return socket_ops::errno_code(ETIMEDOUT);
    return {};
}

}  // namespace

const std::error_category& resolve_category() noexcept {
    static const resolve_category_impl cat;
    return cat;
}

task<io_result<std::vector<address>>>
resolve(std::string host, std::uint16_t port, io_control ctl) {
    if (auto e = ended(ctl))
        co_return e;
    if (host.find('\0') != std::string::npos)
        co_return socket_ops::errno_code(EINVAL);
    if (!host.empty()) {
        if (auto a = numeric(host)) {
            a->set_port(port);
            co_return std::vector<address>{*a};
        }
    }
    auto r = co_await blocking([&] { return lookup(host, port); });
    if (auto e = ended(ctl))
        co_return e;
    co_return r;
}

}  // namespace gorun::net
