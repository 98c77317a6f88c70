// gorun/io_result.hpp: a value or an error_code; .value() throws std::system_error.
#include <gorun/io_result.hpp>

#include <doctest/doctest.h>

#include <cerrno>
#include <ostream>
#include <string>
#include <system_error>

TEST_CASE("io_result holds a value or an errno error_code") {
    auto ok = gorun::io_result<std::size_t>::from_res(12);
    REQUIRE(ok);
    CHECK(ok.has_value());
    CHECK(*ok == 12);
    CHECK(ok.value() == 12);
    CHECK(!ok.error());

    auto bad = gorun::io_result<std::size_t>::from_res(-ENOENT);
    CHECK(!bad);
    CHECK(bad.error() == std::errc::no_such_file_or_directory);
    CHECK(bad.value_or(7) == 7);
    bool thrown = false;
    try {
        (void)bad.value();
    } catch (const std::system_error& e) {
        thrown = e.code() == std::errc::no_such_file_or_directory;
    }
    CHECK(thrown);
}

TEST_CASE("io_result carries move-only and class values, and void") {
    gorun::io_result<std::string> s(std::string("abc"));
    CHECK(s->size() == 3);
    std::string moved = std::move(s).value();
    CHECK(moved == "abc");

    gorun::io_result<void> v;
    CHECK(v);
    v.value();
    gorun::io_result<void> e = gorun::io_result<void>::from_res(-ETIMEDOUT);
    CHECK(e.error() == std::errc::timed_out);
    CHECK_THROWS_AS(e.value(), std::system_error);
}
