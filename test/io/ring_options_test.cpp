// runtime_options' ring set-up options: extra IORING_SETUP_* flags (SQPOLL) and sharing an
// existing ring's kernel workers (ATTACH_WQ). Each runtime runs real ops, timers and channel
// traffic on rings set up that way.
#include <gorun/uring.hpp>

#include "harness.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>

using namespace std::chrono_literals;

namespace {

// NOPs, a pipe round trip, an io-wq op (IOSQE_ASYNC), a sleep and a channel exchange.
gorun::task<> exercise() {
    for (int i = 0; i < 50; ++i)
        REQUIRE(co_await gorun::uring::op([](io_uring_sqe* s) { io_uring_prep_nop(s); }) == 0);
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    char out[] = "ring options";
    char in[sizeof out] = {};
    CHECK(
        co_await gorun::uring::op(
            [&](io_uring_sqe* s) { io_uring_prep_write(s, p[1], out, sizeof out, 0); })
        == static_cast<int>(sizeof out));
    CHECK(
        co_await gorun::uring::op([&](io_uring_sqe* s) {
            io_uring_prep_read(s, p[0], in, sizeof in, 0);
            s->flags |= IOSQE_ASYNC;  // through io-wq (the shared pool under ATTACH_WQ)
        })
        == static_cast<int>(sizeof in));
    CHECK(std::memcmp(in, out, sizeof out) == 0);
    ::close(p[0]);
    ::close(p[1]);
    co_await gorun::sleep_for(1ms);
    gorun::channel<int> ch(0);
    gorun::go([](gorun::channel<int> c) -> gorun::task<> { co_await c.send(7); }, ch);
    CHECK(*co_await ch.recv() == 7);
}

}  // namespace

TEST_CASE("a runtime whose rings poll their submission queue (IORING_SETUP_SQPOLL) works") {
    gorun::runtime_options o;
    o.ring_flags = IORING_SETUP_SQPOLL;
    o.sq_thread_idle_ms = 10;
    for (unsigned w : {1u, 2u}) {
        CAPTURE(w);
        gorun::test::run_body(
            +[]() -> gorun::task<> { co_await exercise(); }, w, o);
    }
}

TEST_CASE("worker rings can share an existing ring's kernel workers (IORING_SETUP_ATTACH_WQ)") {
    io_uring app;  // the application's own ring
    REQUIRE(io_uring_queue_init(8, &app, 0) == 0);
    gorun::runtime_options o;
    o.attach_wq_fd = app.ring_fd;
    for (unsigned w : {1u, 2u}) {
        CAPTURE(w);
        gorun::test::run_body(
            +[]() -> gorun::task<> { co_await exercise(); }, w, o);
    }
    io_uring_queue_exit(&app);
}

TEST_CASE("a ring flag the kernel refuses is a setup_error, not a crash") {
    gorun::runtime_options o;
    o.ring_flags = 1u << 31;  // no such flag
    bool threw = false;
    try {
        gorun::run(
            []() -> gorun::task<> {
                co_return;
            }(),
            o);
    } catch (const gorun::setup_error& e) {
        threw = true;
        CHECK(std::string(e.what()).find("ring_flags") != std::string::npos);  // names the knob
    }
    CHECK(threw);
}
