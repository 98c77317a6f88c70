// See net/address.hpp. The storage holds a real sockaddr_in / sockaddr_in6, so data()/size()
// go to the kernel unchanged; everything else reads and writes it through those structs.
#include <gorun/net/address.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <charconv>
#include <cstring>
#include <net/if.h>

namespace gorun::net {

static_assert(sizeof(sockaddr_in6) == address::capacity);
static_assert(sizeof(sockaddr_in) <= address::capacity);

namespace {

sockaddr_in* v4(void* p) noexcept {
    return static_cast<sockaddr_in*>(p);
}
const sockaddr_in* v4(const void* p) noexcept {
    return static_cast<const sockaddr_in*>(p);
}
sockaddr_in6* v6(void* p) noexcept {
    return static_cast<sockaddr_in6*>(p);
}
const sockaddr_in6* v6(const void* p) noexcept {
    return static_cast<const sockaddr_in6*>(p);
}

// A port: 1-5 decimal digits, at most 65535.
std::optional<std::uint16_t> parse_port(std::string_view s) noexcept {
    if (s.empty() || s.size() > 5)
        return std::nullopt;
    unsigned v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size() || v > 65535)
        return std::nullopt;
    return static_cast<std::uint16_t>(v);
}

std::optional<address> parse_v4(std::string_view host, std::uint16_t port) {
    // inet_pton wants a NUL-terminated string and accepts exactly a.b.c.d in decimal.
    if (host.empty() || host.size() > 15)
        return std::nullopt;
    char buf[16];
    std::memcpy(buf, host.data(), host.size());
    buf[host.size()] = '\0';
    std::array<std::uint8_t, 4> octets{};
    if (::inet_pton(AF_INET, buf, octets.data()) != 1)
        return std::nullopt;
    return address::ipv4(octets, port);
}

std::optional<address> parse_v6(std::string_view host, std::uint16_t port) {
    std::uint32_t scope = 0;
    if (auto pct = host.find('%'); pct != std::string_view::npos) {
        std::string_view zone = host.substr(pct + 1);
        host = host.substr(0, pct);
        if (zone.empty() || zone.size() >= IF_NAMESIZE)
            return std::nullopt;
        auto [end, ec] = std::from_chars(zone.data(), zone.data() + zone.size(), scope);
        if (ec != std::errc{} || end != zone.data() + zone.size()) {
            char name[IF_NAMESIZE];
            std::memcpy(name, zone.data(), zone.size());
            name[zone.size()] = '\0';
            scope = ::if_nametoindex(name);
            if (scope == 0)
                return std::nullopt;
        }
    }
    if (host.empty() || host.size() > INET6_ADDRSTRLEN)
        return std::nullopt;
    char buf[INET6_ADDRSTRLEN + 1];
    std::memcpy(buf, host.data(), host.size());
    buf[host.size()] = '\0';
    std::array<std::uint8_t, 16> bytes{};
    if (::inet_pton(AF_INET6, buf, bytes.data()) != 1)
        return std::nullopt;
    return address::ipv6(bytes, port, scope);
}

}  // namespace

address address::ipv4(std::array<std::uint8_t, 4> octets, std::uint16_t port) noexcept {
    address a;
    sockaddr_in* s = v4(a.storage_.data());
    s->sin_family = AF_INET;
    s->sin_port = htons(port);
    std::memcpy(&s->sin_addr, octets.data(), 4);
    a.family_ = family::ipv4;
    return a;
}

address address::ipv6(
    const std::array<std::uint8_t, 16>& bytes,
    std::uint16_t port,
    std::uint32_t scope_id) noexcept {
    address a;
    sockaddr_in6* s = v6(a.storage_.data());
    s->sin6_family = AF_INET6;
    s->sin6_port = htons(port);
    std::memcpy(&s->sin6_addr, bytes.data(), 16);
    s->sin6_scope_id = scope_id;
    a.family_ = family::ipv6;
    return a;
}

address address::loopback_v4(std::uint16_t port) noexcept {
    return ipv4({127, 0, 0, 1}, port);
}
address address::any_v4(std::uint16_t port) noexcept {
    return ipv4({0, 0, 0, 0}, port);
}
address address::loopback_v6(std::uint16_t port) noexcept {
    std::array<std::uint8_t, 16> b{};
    b[15] = 1;
    return ipv6(b, port);
}
address address::any_v6(std::uint16_t port) noexcept {
    return ipv6({}, port);
}

std::optional<address> address::parse(std::string_view text) {
    if (text.empty())
        return std::nullopt;
    if (text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string_view::npos)
            return std::nullopt;
        std::string_view host = text.substr(1, close - 1);
        std::string_view rest = text.substr(close + 1);
        std::uint16_t port = 0;
        if (!rest.empty()) {
            if (rest.front() != ':')
                return std::nullopt;
            auto p = parse_port(rest.substr(1));
            if (!p)
                return std::nullopt;
            port = *p;
        }
        return parse_v6(host, port);
    }
    auto colon = text.find(':');
    if (colon == std::string_view::npos)
        return parse_v4(text, 0);
    if (text.find(':', colon + 1) != std::string_view::npos)
        return parse_v6(text, 0);  // bare IPv6: several colons, no port
    auto p = parse_port(text.substr(colon + 1));
    if (!p)
        return std::nullopt;
    return parse_v4(text.substr(0, colon), *p);
}

std::optional<address> address::from_native(const void* sa, std::size_t len) noexcept {
    if (!sa || len < sizeof(sa_family_t))
        return std::nullopt;
    sa_family_t f;
    std::memcpy(&f, sa, sizeof f);
    address a;
    if (f == AF_INET && len >= sizeof(sockaddr_in)) {
        std::memcpy(a.storage_.data(), sa, sizeof(sockaddr_in));
        a.family_ = family::ipv4;
        return a;
    }
    if (f == AF_INET6 && len >= sizeof(sockaddr_in6)) {
        std::memcpy(a.storage_.data(), sa, sizeof(sockaddr_in6));
        a.family_ = family::ipv6;
        return a;
    }
    return std::nullopt;
}

std::uint16_t address::port() const noexcept {
    switch (family_) {
        case family::ipv4:
            return ntohs(v4(storage_.data())->sin_port);
        case family::ipv6:
            return ntohs(v6(storage_.data())->sin6_port);
        default:
            return 0;
    }
}

void address::set_port(std::uint16_t port) noexcept {
    if (family_ == family::ipv4)
        v4(storage_.data())->sin_port = htons(port);
    else if (family_ == family::ipv6)
        v6(storage_.data())->sin6_port = htons(port);
}

bool address::is_loopback() const noexcept {
    if (family_ == family::ipv4)
        return (ntohl(v4(storage_.data())->sin_addr.s_addr) >> 24) == 127;
    if (family_ == family::ipv6) {
        const in6_addr& a = v6(storage_.data())->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(&a))
            return true;
        return IN6_IS_ADDR_V4MAPPED(&a) && a.s6_addr[12] == 127;
    }
    return false;
}

bool address::is_unspecified() const noexcept {
    if (family_ == family::ipv4)
        return v4(storage_.data())->sin_addr.s_addr == INADDR_ANY;
    if (family_ == family::ipv6)
        return IN6_IS_ADDR_UNSPECIFIED(&v6(storage_.data())->sin6_addr);
    return false;
}

std::string address::host() const {
    char buf[INET6_ADDRSTRLEN + 16];
    if (family_ == family::ipv4) {
        ::inet_ntop(AF_INET, &v4(storage_.data())->sin_addr, buf, sizeof buf);
        return buf;
    }
    if (family_ == family::ipv6) {
        const sockaddr_in6* s = v6(storage_.data());
        ::inet_ntop(AF_INET6, &s->sin6_addr, buf, sizeof buf);
        std::string out = buf;
        if (s->sin6_scope_id != 0)
            out += fmt::format("%{}", s->sin6_scope_id);  // numeric: round-trips without names
        return out;
    }
    return {};
}

std::string address::to_string() const {
    if (family_ == family::ipv4)
        return fmt::format("{}:{}", host(), port());
    if (family_ == family::ipv6)
        return fmt::format("[{}]:{}", host(), port());
    return {};
}

std::size_t address::size() const noexcept {
    switch (family_) {
        case family::ipv4:
            return sizeof(sockaddr_in);
        case family::ipv6:
            return sizeof(sockaddr_in6);
        default:
            return 0;
    }
}

bool operator==(const address& a, const address& b) noexcept {
    return a.family_ == b.family_
        && std::memcmp(a.storage_.data(), b.storage_.data(), a.size()) == 0;
}

}  // namespace gorun::net
