// net::resolve without a network: numeric hosts (no pool hop), "localhost" through
// getaddrinfo on the blocking pool, and a name that cannot exist (RFC 6761 ".invalid"),
// whose error is whatever the resolver says — checked for its category, not a fixed code.
#include <gorun/net/resolve.hpp>

#include "harness.hpp"

#include <algorithm>
#include <stop_token>

using namespace std::chrono_literals;
using gorun::net::address;
using gorun::net::resolve;

GORUN_TEST_CASE("a numeric IPv4 or IPv6 host resolves to itself with the port") {
    auto v4 = co_await resolve("127.0.0.1", 80);
    REQUIRE(v4);
    REQUIRE(v4->size() == 1);
    CHECK(v4->front() == address::loopback_v4(80));
    auto v6 = co_await resolve("::1", 443);
    REQUIRE(v6);
    REQUIRE(v6->size() == 1);
    CHECK(v6->front() == address::loopback_v6(443));
    auto bracketed = co_await resolve("[::1]", 8);
    REQUIRE(bracketed);
    CHECK(bracketed->front() == address::loopback_v6(8));
    auto zoned = co_await resolve("fe80::1%1", 9);
    REQUIRE(zoned);
    CHECK(zoned->front().to_string() == "[fe80::1%1]:9");
    // "host:port" is not a host: it goes to the resolver, which knows no such name.
    auto with_port = co_await resolve("127.0.0.1:80", 80);
    CHECK_FALSE(with_port);
}

GORUN_TEST_CASE("localhost resolves to loopback addresses with the port") {
    auto r = co_await resolve("localhost", 8080);
    REQUIRE(r);
    REQUIRE_FALSE(r->empty());
    for (const address& a : *r) {
        CHECK(a.is_loopback());
        CHECK(a.port() == 8080);
    }
    // No duplicates (one entry per address, not per socket type).
    for (std::size_t i = 0; i < r->size(); ++i)
        CHECK(std::count(r->begin(), r->end(), (*r)[i]) == 1);
}

GORUN_TEST_CASE(
    "a name that cannot exist is an error in resolve_category with gai_strerror's text") {
    auto r = co_await resolve("no-such-host.invalid", 80);
    REQUIRE_FALSE(r);
    // Without a network the code may be host_not_found, temporary_failure or another EAI code;
    // EAI_SYSTEM would arrive as an errno.
    auto ec = r.error();
    MESSAGE(
        "resolver said: " << std::string(ec.category().name()) << " " << ec.value() << " "
                          << ec.message());
    CHECK(
        (ec.category() == gorun::net::resolve_category()
         || ec.category() == std::generic_category()));
    CHECK_FALSE(ec.message().empty());
    CHECK(std::string(gorun::net::resolve_category().name()) == "gorun.resolve");
    std::error_code nf = gorun::net::resolve_errc::host_not_found;
    CHECK(nf.category() == gorun::net::resolve_category());
    CHECK_FALSE(nf.message().empty());
    auto nul = co_await resolve(std::string("local\0host", 10), 80);
    CHECK(nul.error() == std::errc::invalid_argument);
}

GORUN_TEST_CASE("a stopped or expired io_control ends resolve before the lookup") {
    std::stop_source stop;
    stop.request_stop();
    auto c = co_await resolve("localhost", 1, stop.get_token());
    CHECK(c.error() == std::errc::operation_canceled);
    auto t = co_await resolve("localhost", 1, gorun::clock::now() - 1ms);
    CHECK(t.error() == std::errc::timed_out);
}
