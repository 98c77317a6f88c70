// net::unix_listener and net::unix_stream: echo, end of stream, refused and missing sockets,
// deadlines, cancellation, peer resets without SIGPIPE, abstract names, socketpair, and the
// socket file's life (EADDRINUSE on a stale path, which only the caller removes), and the
// acceptor shared with tcp_listener (queued connections, close with untaken connections,
// concurrent callers, IO-8).
#include <gorun/net/unix_listener.hpp>
#include <gorun/net/unix_stream.hpp>

#include "harness.hpp"
#include "huge_buffer.hpp"
#include "net_support.hpp"

#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstring>
#include <stop_token>
#include <string>

using namespace std::chrono_literals;
using gorun::net::unix_listener;
using gorun::net::unix_stream;
using gorun::test::echo_check;
using gorun::test::echo_once;

namespace {

// A fresh socket path for this process (nothing there yet).
std::string temp_path() {
    static std::atomic<int> n{0};
    std::string p = fmt::format("/tmp/gorun_unix_test.{}.{}.sock", ::getpid(), n++);
    ::unlink(p.c_str());
    return p;
}

bool exists(const std::string& p) {
    struct stat st {};
    return ::lstat(p.c_str(), &st) == 0;
}

}  // namespace

GORUN_TEST_CASE("a Unix connection echoes bytes both ways; names match; end of stream reads 0") {
    auto path = temp_path();
    {
        auto l = unix_listener::listen(path).value();
        CHECK(l.path() == path);
        CHECK(exists(path));
        gorun::wait_group wg;
        wg.go(echo_once<unix_listener>, &l);
        auto c = co_await unix_stream::connect(path);
        REQUIRE(c);
        CHECK(c->peer_path().value() == path);
        CHECK(c->local_path().value().empty());  // a connecting socket is unnamed
        co_await echo_check(&*c);
        co_await wg.wait();
    }
    CHECK_FALSE(exists(path));  // the listener removed the file it created
}

GORUN_TEST_CASE("an abstract name ('@') works like a path and leaves no file") {
    std::string name = fmt::format("@gorun_unix_test.{}.{}", ::getpid(), gorun::test::workers());
    auto l = unix_listener::listen(name).value();
    gorun::wait_group wg;
    wg.go(echo_once<unix_listener>, &l);
    auto c = co_await unix_stream::connect(name);
    REQUIRE(c);
    CHECK(c->peer_path().value() == name);
    co_await echo_check(&*c);
    co_await wg.wait();
    // Taken while the listener lives.
    CHECK(unix_listener::listen(name).error() == std::errc::address_in_use);
}

GORUN_TEST_CASE(
    "a stale socket file makes listen fail with EADDRINUSE until the caller unlinks it") {
    auto path = temp_path();
    {
        unix_listener first = unix_listener::listen(path, {.unlink_on_close = false}).value();
    }  // closed, file kept: what a crashed server leaves behind
    REQUIRE(exists(path));
    auto again = unix_listener::listen(path);
    REQUIRE_FALSE(again);
    CHECK(again.error() == std::errc::address_in_use);
    CHECK(exists(path));  // a failed listen does not remove what it did not create
    // Nobody listens there: connecting is refused.
    auto c = co_await unix_stream::connect(path);
    CHECK(c.error() == std::errc::connection_refused);
    // The caller decides the file is stale and removes it; then listen works.
    REQUIRE(::unlink(path.c_str()) == 0);
    auto l = unix_listener::listen(path);
    REQUIRE(l);
    l->close();
    CHECK_FALSE(exists(path));
}

GORUN_TEST_CASE("bad names are reported and leak no descriptor") {
    int before = gorun::test::open_fds();
    auto missing = co_await unix_stream::connect(temp_path());
    CHECK(missing.error() == std::errc::no_such_file_or_directory);
    auto empty = co_await unix_stream::connect("");
    CHECK(empty.error() == std::errc::invalid_argument);
    auto long_name = co_await unix_stream::connect("/tmp/" + std::string(200, 'n'));
    CHECK(long_name.error() == std::errc::filename_too_long);
    CHECK(unix_listener::listen(std::string(108, 'p')).error() == std::errc::filename_too_long);
    CHECK(
        unix_listener::listen("/nonexistent-dir/x.sock").error()
        == std::errc::no_such_file_or_directory);
    CHECK(gorun::test::open_fds() == before);
}

GORUN_TEST_CASE("read_exact on a Unix stream reports an early end; what came is kept") {
    auto [a, b] = unix_stream::pair().value();
    REQUIRE(co_await a.write_all(std::string_view("abc")));
    REQUIRE(co_await a.close());
    std::array<char, 8> buf{};
    auto r = co_await b.read_exact(std::as_writable_bytes(std::span(buf)));
    CHECK(r.error() == std::errc::connection_reset);
    CHECK(std::string_view(buf.data(), 3) == "abc");
}

GORUN_TEST_CASE("a read deadline on a Unix stream times the read out; the stream still works") {
    auto [a, b] = unix_stream::pair().value();
    std::array<std::byte, 8> buf;
    b.set_read_deadline(gorun::clock::now() + 20ms);
    auto start = gorun::clock::now();
    auto r = co_await b.read(buf);
    CHECK(r.error() == std::errc::timed_out);
    CHECK(gorun::clock::now() >= start + 20ms);
    b.set_read_deadline(gorun::clock::time_point::max());
    REQUIRE(co_await a.write_all(std::string_view("ping")));
    CHECK(co_await b.read_exact(std::span(buf.data(), 4)));
    auto late = co_await b.read(buf, gorun::clock::now() - 1ms);
    CHECK(late.error() == std::errc::timed_out);
}

GORUN_TEST_CASE("IO-1: a stop token cancels a pending Unix accept and read; fds come back") {
    int before = gorun::test::open_fds();
    {
        auto path = temp_path();
        auto l = unix_listener::listen(path).value();
        CHECK(co_await gorun::test::accept_stopped(&l) == std::errc::operation_canceled);

        auto [a, b] = unix_stream::pair().value();
        std::stop_source rs;
        gorun::go(gorun::test::stop_after_yield, &rs);
        std::array<std::byte, 8> buf;
        auto r = co_await b.read(buf, rs.get_token());
        CHECK(r.error() == std::errc::operation_canceled);
        l.close();  // IO-8: the socket is closed when the acceptor has ended, which accept() awaits
        CHECK((co_await l.accept()).error() == std::errc::bad_file_descriptor);
    }
    CHECK(gorun::test::open_fds() == before);
}

GORUN_TEST_CASE("closing a Unix listener wakes a pending accept with an error") {
    auto l = unix_listener::listen(temp_path()).value();
    CHECK(co_await gorun::test::accept_fails_on_close(&l));
}

GORUN_TEST_CASE("writing to a Unix stream whose peer is gone is EPIPE, never a SIGPIPE") {
    auto [a, b] = unix_stream::pair().value();
    REQUIRE(co_await b.close());
    auto w = co_await a.write_all(std::string_view("anyone there?"));
    REQUIRE_FALSE(w);
    CHECK((w.error() == std::errc::broken_pipe || w.error() == std::errc::connection_reset));
}

GORUN_TEST_CASE("connections queued on a Unix listener before any accept() are each taken once") {
    auto l = unix_listener::listen(temp_path()).value();
    co_await gorun::test::accept_queued<unix_stream>(&l, 20);
}

GORUN_TEST_CASE("closing a Unix listener closes the connections it accepted but nobody took") {
    auto path = temp_path();
    auto make = [path] {
        return unix_listener::listen(path).value();
    };
    co_await gorun::test::close_with_buffered_connections<unix_stream>(&make);
    CHECK_FALSE(exists(path));
}

GORUN_TEST_CASE("many concurrent accept() callers on a Unix listener each get their own "
                "connection, and a stopped caller loses none") {
    auto l = unix_listener::listen(temp_path()).value();
    co_await gorun::test::concurrent_accepts<unix_stream>(&l);
}

GORUN_TEST_CASE("IO-8: a closed Unix listener's abstract name is free once accept() reports "
                "the close") {
    std::string name =
        fmt::format("@gorun_unix_test.io8.{}.{}", ::getpid(), gorun::test::workers());
    int base = gorun::test::open_fds();
    auto l = unix_listener::listen(name).value();
    CHECK(co_await gorun::test::accept_stopped(&l) == std::errc::operation_canceled);
    l.close();  // the acceptor ran: it closes the socket when its armed accept has ended
    CHECK((co_await l.accept()).error() == std::errc::bad_file_descriptor);
    CHECK(gorun::test::open_fds() == base);
    auto again = unix_listener::listen(name);
    CHECK(again);
}

namespace {

// `len` bytes of address space that cost no memory: untouched anonymous pages read as zeros
// and get a page only when written.
using gorun::test::huge_buffer;

}  // namespace

// An SQE's length is 32 bits: a span of exactly 4 GiB went to the kernel as 0 bytes, so read()
// reported end of stream with data waiting, write() sent nothing, and write_all spun forever.
GORUN_TEST_CASE("spans of 4 GiB and more are not cut to 32 bits: no false end of stream") {
    constexpr std::size_t four_gib = std::size_t{1} << 32;
    huge_buffer big(four_gib);
    REQUIRE(big.p != MAP_FAILED);
    auto [a, b] = unix_stream::pair().value();
    REQUIRE(co_await a.write_all(std::string_view("hi")));
    auto n = co_await b.read(big.span());
    REQUIRE(n);
    CHECK(*n == 2);
    CHECK(big.span()[0] == std::byte{'h'});
    // One write of 4 GiB + 1 takes what the socket buffer holds: more than the 1 byte that
    // the 32-bit length would leave, less than it all.
    huge_buffer big2(four_gib + 4096);
    REQUIRE(big2.p != MAP_FAILED);
    auto w = co_await a.write(big2.span().first(four_gib + 1));
    REQUIRE(w);
    CHECK(*w > 1);
    CHECK(*w < four_gib);
}

// A path of exactly sizeof(sun_path) = 108 bytes has no NUL in sun_path; other programs may
// bind one (listen() here refuses it), and the kernel then reports a length one past
// sockaddr_un. Reading the name back must stop at sun_path's end (ASan: stack overflow).
GORUN_TEST_CASE("a peer bound to a 108-byte path (no NUL) reads back exactly, within sun_path") {
    static std::atomic<int> run{0};
    std::string dir = fmt::format("/tmp/gorun_unix_long.{}.{}", ::getpid(), run++);
    REQUIRE(::mkdir(dir.c_str(), 0700) == 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::string path = dir + "/" + std::string(sizeof sa.sun_path - dir.size() - 1, 'q');
    REQUIRE(path.size() == sizeof sa.sun_path);
    std::memcpy(sa.sun_path, path.data(), path.size());
    int srv = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(srv >= 0);
    REQUIRE(::bind(srv, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
    REQUIRE(::listen(srv, 1) == 0);
    int cli = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(cli >= 0);
    REQUIRE(::connect(cli, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
    unix_stream server_side(srv);  // the listening socket: its own name
    unix_stream client(cli);
    CHECK(server_side.local_path().value() == path);
    CHECK(client.peer_path().value() == path);
    ::unlink(path.c_str());
    ::rmdir(dir.c_str());
    co_return;
}

GORUN_TEST_CASE("closing a Unix stream ends its pending read and write; the peer sees the end") {
    auto [a, b] = unix_stream::pair().value();
    co_await gorun::test::end_wakes_pending_calls<unix_stream>(
        &a, &b, [](unix_stream* s) -> gorun::task<> { (void)co_await s->close(); });
    auto [c, d] = unix_stream::pair().value();
    co_await gorun::test::end_wakes_pending_calls<unix_stream>(
        &c, &d, [](unix_stream* s) -> gorun::task<> {
            *s = unix_stream();  // move-assignment closes the old socket
            co_return;
        });
}
