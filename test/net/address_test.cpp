// net::address: parsing, printing (also through fmt), round trips, and the kernel's view.
#include <gorun/net/address.hpp>

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <string>

using gorun::net::address;

TEST_CASE("IPv4 forms parse, print and round-trip") {
    auto a = address::parse("127.0.0.1:8080");
    REQUIRE(a);
    CHECK(a->is_v4());
    CHECK(a->port() == 8080);
    CHECK(a->is_loopback());
    CHECK(a->host() == "127.0.0.1");
    CHECK(a->to_string() == "127.0.0.1:8080");
    CHECK(fmt::format("{}", *a) == "127.0.0.1:8080");
    CHECK(fmt::format("<{:>16}>", *a) == "<  127.0.0.1:8080>");  // format specs apply
    CHECK(*a == address::loopback_v4(8080));
    CHECK(address::parse(a->to_string()) == a);

    auto b = address::parse("10.1.2.3");
    REQUIRE(b);
    CHECK(b->port() == 0);
    CHECK_FALSE(b->is_loopback());
    CHECK(address::parse("0.0.0.0:0")->is_unspecified());
}

TEST_CASE("IPv6 forms parse, print and round-trip") {
    auto a = address::parse("[::1]:443");
    REQUIRE(a);
    CHECK(a->is_v6());
    CHECK(a->port() == 443);
    CHECK(a->is_loopback());
    CHECK(a->to_string() == "[::1]:443");
    CHECK(*a == address::loopback_v6(443));

    auto bare = address::parse("2001:db8::7");
    REQUIRE(bare);
    CHECK(bare->port() == 0);
    CHECK(bare->host() == "2001:db8::7");
    CHECK(bare->to_string() == "[2001:db8::7]:0");

    auto zoned = address::parse("[fe80::1%3]:80");
    REQUIRE(zoned);
    CHECK(zoned->host() == "fe80::1%3");
    CHECK(address::parse(zoned->to_string()) == zoned);
    auto lo = address::parse("[fe80::1%lo]:80");  // a zone by interface name
    REQUIRE(lo);
    CHECK(lo->host().rfind("fe80::1%", 0) == 0);

    CHECK(address::parse("[::]:1")->is_unspecified());
    CHECK(address::parse("[::ffff:127.0.0.1]:1")->is_loopback());
}

TEST_CASE("malformed input is refused, never half-parsed") {
    for (const char* bad :
         {"",
          ":",
          "1.2.3.4:",
          "1.2.3.4:70000",
          "1.2.3.4:-1",
          "1.2.3.4:8a",
          "1.2.3.4:123456",
          "256.1.1.1:1",
          "1.2.3:80",
          "01.2.3.4x",
          "localhost:80",
          "[::1",
          "::1]:80",
          "[::1]80",
          "[::1]:",
          "[1.2.3.4]:80",
          "[fe80::1%]:80",
          "[fe80::1%no-such-interface0]:80",
          "[:::1]:80"}) {
        CAPTURE(bad);
        CHECK_FALSE(address::parse(bad).has_value());
    }
}

TEST_CASE("data()/size() are a kernel sockaddr, and from_native reads one back") {
    auto a = *address::parse("192.168.1.20:5353");
    REQUIRE(a.size() == sizeof(sockaddr_in));
    sockaddr_in sin;
    std::memcpy(&sin, a.data(), sizeof sin);
    CHECK(sin.sin_family == AF_INET);
    CHECK(ntohs(sin.sin_port) == 5353);
    CHECK(ntohl(sin.sin_addr.s_addr) == 0xC0A80114u);
    CHECK(address::from_native(&sin, sizeof sin) == a);

    auto b = *address::parse("[2001:db8::1]:9");
    REQUIRE(b.size() == sizeof(sockaddr_in6));
    CHECK(address::from_native(b.data(), b.size()) == b);

    CHECK_FALSE(address::from_native(nullptr, 0).has_value());
    sockaddr other{};
    other.sa_family = AF_UNIX;
    CHECK_FALSE(address::from_native(&other, sizeof other).has_value());
    CHECK_FALSE(address::from_native(&sin, 4).has_value());  // too short for its family
    CHECK(address{}.size() == 0);
    CHECK(address{}.to_string().empty());
}
