// gorun/file.hpp: files through the ring.
#include <gorun/file.hpp>

#include "harness.hpp"
#include "huge_buffer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <dirent.h>
#include <random>
#include <string>
#include <system_error>

namespace {

using gorun::test::open_fds;

std::string temp_path(const char* name) {
    return "/tmp/gorun_file_test_" + std::to_string(::getpid()) + "_"
        + std::to_string(gorun::test::workers()) + "_" + name;
}

std::string random_bytes(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::string s(n, '\0');
    for (char& c : s)
        c = static_cast<char>(rng());
    return s;
}

}  // namespace

GORUN_TEST_CASE("write_file and read_file round-trip, empty and multi-read files included") {
    int fds_before = open_fds();
    std::string p = temp_path("roundtrip");
    for (std::size_t size :
         {std::size_t{0}, std::size_t{1}, std::size_t{4096}, std::size_t{1} << 20}) {
        std::string data = random_bytes(size, static_cast<unsigned>(size));
        auto w = co_await gorun::write_file(p, data);
        REQUIRE(w);
        auto r = co_await gorun::read_file(p);
        REQUIRE(r);
        CHECK(r->size() == size);
        CHECK(*r == data);
    }
    ::unlink(p.c_str());
    CHECK(open_fds() == fds_before);
}

GORUN_TEST_CASE("read_at reports a short read at end of file, then 0") {
    std::string p = temp_path("short");
    REQUIRE(co_await gorun::write_file(p, "0123456789"));
    auto f = co_await gorun::file::open(p);
    REQUIRE(f);
    std::array<char, 8> buf{};
    auto n = co_await f->read_at(buf, 0);
    REQUIRE(n);
    CHECK(*n == 8);
    n = co_await f->read_at(buf, 8);
    REQUIRE(n);
    CHECK(*n == 2);  // short: only two bytes are left
    CHECK(std::memcmp(buf.data(), "89", 2) == 0);
    n = co_await f->read_at(buf, 10);
    REQUIRE(n);
    CHECK(*n == 0);  // end of file
    ::unlink(p.c_str());
}

// An SQE's length is 32 bits: a 4 GiB span went to the kernel as 0 bytes, so read_at reported
// end of file with data there (io/op_len.hpp).
GORUN_TEST_CASE("read_at into a span of 4 GiB reads the file, not a false end of file") {
    std::string path = temp_path("huge_span");
    REQUIRE(co_await gorun::write_file(path, "abc"));
    gorun::test::huge_buffer big(std::size_t{1} << 32);
    REQUIRE(big.p != MAP_FAILED);
    {
        auto f = (co_await gorun::file::open(path, O_RDONLY)).value();
        auto n = co_await f.read_at(big.span(), 0);
        REQUIRE(n);
        CHECK(*n == 3);
        CHECK(big.span()[2] == std::byte{'c'});
    }
    ::unlink(path.c_str());
}

GORUN_TEST_CASE("open of a missing file reports ENOENT; value() throws std::system_error") {
    auto f = co_await gorun::file::open("/nonexistent/gorun/file");
    CHECK(!f);
    CHECK((f.error() == std::errc::no_such_file_or_directory));
    bool thrown = false;
    try {
        (void)(co_await gorun::read_file("/nonexistent/gorun/file")).value();
    } catch (const std::system_error& e) {
        thrown = e.code() == std::errc::no_such_file_or_directory;
    }
    CHECK(thrown);
}

GORUN_TEST_CASE("write_at, readv_at and writev_at work at offsets; stat and sync report") {
    std::string p = temp_path("vec");
    auto f = co_await gorun::file::create(p);
    REQUIRE(f);
    auto w = co_await f->write_at(std::string_view("hello world"), 0);
    REQUIRE(w);
    CHECK(*w == 11);
    char a[] = "HELLO", b[] = "WORLD";
    gorun::io_vec out[] = {{a, 5}, {b, 5}};
    auto wv = co_await f->writev_at(out, 20);
    REQUIRE(wv);
    CHECK(*wv == 10);
    char x[5] = {}, y[5] = {};
    gorun::io_vec in[] = {{x, 5}, {y, 5}};
    auto rv = co_await f->readv_at(in, 20);
    REQUIRE(rv);
    CHECK(*rv == 10);
    CHECK(std::memcmp(x, "HELLO", 5) == 0);
    CHECK(std::memcmp(y, "WORLD", 5) == 0);
    CHECK(co_await f->sync());
    CHECK(co_await f->sync(true));
    auto st = co_await f->stat();
    REQUIRE(st);
    CHECK(st->size == 30);
    CHECK(st->is_regular());
    auto st2 = co_await gorun::stat("/tmp");
    REQUIRE(st2);
    CHECK(st2->is_directory());
    CHECK(co_await f->close());
    CHECK(!f->is_open());
    ::unlink(p.c_str());
}

GORUN_TEST_CASE("files close on destruction and through the ring; fds back to baseline") {
    int fds_before = open_fds();
    std::string p = temp_path("close");
    REQUIRE(co_await gorun::write_file(p, "x"));
    for (int i = 0; i < 100; ++i) {
        auto f = co_await gorun::file::open(p);
        REQUIRE(f);
        if (i % 2)
            CHECK(co_await f->close());
    }
    CHECK(open_fds() == fds_before);
    ::unlink(p.c_str());
}

GORUN_TEST_CASE("read_file reads a file whose size statx does not know") {
    auto r = co_await gorun::read_file("/proc/self/status");
    REQUIRE(r);
    CHECK(r->find("Name:") != std::string::npos);
}

GORUN_TEST_CASE("IO-6: EAGAIN from a non-blocking fd is waited out, not returned") {
    int fds[2];
    REQUIRE(::pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
    gorun::file r(fds[0]);
    gorun::file w(fds[1]);
    auto reader = [&]() -> gorun::task<std::size_t> {
        std::array<char, 16> buf{};
        auto n = co_await r.read_at(buf, 0);
        co_return n.value();
    };
    auto h = gorun::spawn(reader);
    for (int i = 0; i < 20; ++i)
        co_await gorun::yield();
    REQUIRE(co_await w.write_at(std::string_view("abc"), 0));
    CHECK(co_await h == 3);
}
