// gorun/net/address.hpp — an IPv4 or IPv6 socket address (host and port), parsed and printed.
//
//     auto a = gorun::net::address::parse("127.0.0.1:8080");   // std::optional<address>
//     auto b = gorun::net::address::parse("[::1]:443");
//     fmt::print("listening on {}\n", *a);                       // 127.0.0.1:8080
//
// Accepted forms (as Go's net.SplitHostPort with a numeric host): "1.2.3.4:80", "1.2.3.4"
// (port 0), "[::1]:80", "[::1]", "::1" (no brackets: no port), and an IPv6 zone as
// "[fe80::1%eth0]:80" or "%2". Names are not resolved here (that goes through the blocking pool).
// The value is self-contained and trivially copyable: a sockaddr_in/sockaddr_in6 in an opaque
// buffer (no <sys/socket.h> in public headers), handed to the kernel through data()/size().
#pragma once

#include <fmt/format.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gorun::net {

/// An IPv4 or IPv6 address with a port, or the empty address (family none).
///
/// Suspends: nothing here suspends. Thread-safety: a value type.
class address {
public:
    enum class family : std::uint8_t { none, ipv4, ipv6 };

    /// The empty address (family none, size 0).
    address() noexcept = default;

    /// IPv4 from its four octets in network order (`{127, 0, 0, 1}`).
    static address ipv4(std::array<std::uint8_t, 4> octets, std::uint16_t port) noexcept;
    /// IPv6 from its sixteen bytes in network order, with an optional zone (scope id).
    static address ipv6(
        const std::array<std::uint8_t, 16>& bytes,
        std::uint16_t port,
        std::uint32_t scope_id = 0) noexcept;
    /// 127.0.0.1 / ::1 and 0.0.0.0 / :: with `port`.
    static address loopback_v4(std::uint16_t port) noexcept;
    static address loopback_v6(std::uint16_t port) noexcept;
    static address any_v4(std::uint16_t port) noexcept;
    static address any_v6(std::uint16_t port) noexcept;

    /// Parses a numeric address (forms above); nullopt if `text` is not one.
    static std::optional<address> parse(std::string_view text);

    /// Copies a kernel sockaddr (AF_INET or AF_INET6, `len` bytes); nullopt for other families
    /// or a short length.
    static std::optional<address> from_native(const void* sockaddr, std::size_t len) noexcept;

    family kind() const noexcept { return family_; }
    bool is_v4() const noexcept { return family_ == family::ipv4; }
    bool is_v6() const noexcept { return family_ == family::ipv6; }

    std::uint16_t port() const noexcept;
    void set_port(std::uint16_t port) noexcept;
    /// 127.0.0.0/8 or ::1 (and ::ffff:127.x.y.z).
    bool is_loopback() const noexcept;
    /// 0.0.0.0 or ::.
    bool is_unspecified() const noexcept;

    /// "1.2.3.4" / "::1" / "fe80::1%2" — the host part alone.
    std::string host() const;
    /// "1.2.3.4:80" / "[::1]:80"; "" for the empty address. parse(to_string()) == *this.
    std::string to_string() const;

    /// The kernel's view: a sockaddr_in/sockaddr_in6 of size() bytes (0 for the empty address).
    const void* data() const noexcept { return storage_.data(); }
    void* data() noexcept { return storage_.data(); }
    std::size_t size() const noexcept;
    /// Bytes a sockaddr of any supported family needs (for accept/recvfrom buffers).
    static constexpr std::size_t capacity = 28;  // sizeof(sockaddr_in6)

    friend bool operator==(const address& a, const address& b) noexcept;

private:
    alignas(4) std::array<unsigned char, capacity> storage_{};
    family family_ = family::none;
};

}  // namespace gorun::net

/// fmt::format("{}", addr) prints addr.to_string().
template <>
struct fmt::formatter<gorun::net::address> : fmt::formatter<std::string_view> {
    template <class Ctx>
    auto format(const gorun::net::address& a, Ctx& ctx) const {
        return fmt::formatter<std::string_view>::format(a.to_string(), ctx);
    }
};
