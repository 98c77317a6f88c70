// gorun/uring.hpp: awaiting hand-prepared SQEs, linked chains, batching, CQ overflow (IO-4).
#include <gorun/uring.hpp>

#include "harness.hpp"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <stop_token>

using namespace std::chrono_literals;

GORUN_TEST_CASE("uring::op awaits a NOP and yields its res") {
    int res = co_await gorun::uring::op([](io_uring_sqe* sqe) { io_uring_prep_nop(sqe); });
    CHECK(res == 0);
    auto before = gorun::metrics();
    for (int i = 0; i < 100; ++i)
        CHECK(co_await gorun::uring::op([](io_uring_sqe* sqe) { io_uring_prep_nop(sqe); }) == 0);
    auto after = gorun::metrics();
    CHECK(after.io_ops - before.io_ops >= 100);
    CHECK(after.io_pending == 0);
}

GORUN_TEST_CASE("uring::op yields -errno as the kernel reports it") {
    char buf[8];
    int res = co_await gorun::uring::op(
        [&](io_uring_sqe* sqe) { io_uring_prep_read(sqe, -1, buf, sizeof buf, 0); });
    CHECK(res == -EBADF);
}

GORUN_TEST_CASE("uring::op_with_flags yields res and flags of the completion") {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    REQUIRE(::write(fds[1], "hello", 5) == 5);
    char buf[16] = {};
    auto c = co_await gorun::uring::op_with_flags(
        [&](io_uring_sqe* sqe) { io_uring_prep_read(sqe, fds[0], buf, sizeof buf, 0); });
    CHECK(c.res == 5);
    CHECK(c.flags == 0);
    CHECK(std::memcmp(buf, "hello", 5) == 0);
    ::close(fds[0]);
    ::close(fds[1]);
}

GORUN_TEST_CASE("a linked chain completes in SQE order; a failed link cancels the rest") {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    char out[] = "chain";
    char in[8] = {};
    auto ok = co_await gorun::uring::linked<3>([&](std::span<io_uring_sqe*, 3> s) {
        io_uring_prep_write(s[0], fds[1], out, 5, 0);
        io_uring_prep_read(s[1], fds[0], in, 5, 0);
        io_uring_prep_nop(s[2]);
    });
    CHECK(ok[0].res == 5);
    CHECK(ok[1].res == 5);
    CHECK(ok[2].res == 0);
    CHECK(std::memcmp(in, "chain", 5) == 0);

    auto failed = co_await gorun::uring::linked<3>([&](std::span<io_uring_sqe*, 3> s) {
        io_uring_prep_nop(s[0]);
        io_uring_prep_read(s[1], -1, in, 5, 0);
        io_uring_prep_nop(s[2]);
    });
    CHECK(failed[0].res == 0);
    CHECK(failed[1].res == -EBADF);
    CHECK(failed[2].res == -ECANCELED);
    ::close(fds[0]);
    ::close(fds[1]);
}

GORUN_TEST_CASE("a chain longer than the submission queue is refused with EINVAL") {
    auto r = co_await gorun::uring::linked<512>([](std::span<io_uring_sqe*, 512> s) {
        for (io_uring_sqe* sqe : s)
            io_uring_prep_nop(sqe);
    });
    CHECK(r[0].res == -EINVAL);
    CHECK(r[511].res == -EINVAL);
}

GORUN_TEST_CASE("an exception from the prepare callable propagates and the ring stays usable") {
    bool thrown = false;
    try {
        (void)co_await gorun::uring::op([](io_uring_sqe*) { throw std::runtime_error("prep"); });
    } catch (const std::runtime_error&) {
        thrown = true;
    }
    CHECK(thrown);
    CHECK(co_await gorun::uring::op([](io_uring_sqe* sqe) { io_uring_prep_nop(sqe); }) == 0);
    CHECK(gorun::metrics().io_pending == 0);
}

GORUN_TEST_CASE("an op whose stop token is already stopped or whose deadline passed is not "
                "submitted") {
    std::stop_source src;
    src.request_stop();
    auto ops_before = gorun::metrics().io_ops;
    int r = co_await gorun::uring::op(
        [](io_uring_sqe* sqe) { io_uring_prep_nop(sqe); }, src.get_token());
    CHECK(r == -ECANCELED);
    r = co_await gorun::uring::op(
        [](io_uring_sqe* sqe) { io_uring_prep_nop(sqe); }, gorun::clock::now() - 1ms);
    CHECK(r == -ETIMEDOUT);
    CHECK(gorun::metrics().io_ops == ops_before);
}

GORUN_TEST_CASE("uring::current_ring is the running worker's ring") {
    io_uring* r = gorun::uring::current_ring();
    REQUIRE(r != nullptr);
    CHECK(r->ring_fd >= 0);
    CHECK(gorun::uring::current_ring() != nullptr);
    co_return;
}

namespace {

gorun::task<> nop_loop(int rounds, std::atomic<int>* done) {
    for (int i = 0; i < rounds; ++i) {
        int r = co_await gorun::uring::op([](io_uring_sqe* sqe) { io_uring_prep_nop(sqe); });
        if (r != 0)
            throw std::runtime_error("nop failed");
    }
    done->fetch_add(1);
}

}  // namespace

// One worker, so every task prepares its SQE in the same scheduler pass and the counts are
// the worker's own. The bound is loose on purpose (wakes, the eventfd re-arm, housekeeping
// ticks): without batching it would be one enter per op.
GORUN_TEST_CASE_WITH("SQEs made in one scheduler pass go to the kernel in about one enter", {1u}) {
    constexpr int tasks = 64, rounds = 20;
    std::atomic<int> done{0};
    auto before = gorun::metrics();
    gorun::wait_group wg;
    for (int i = 0; i < tasks; ++i)
        wg.go(nop_loop, rounds, &done);
    co_await wg.wait();
    auto after = gorun::metrics();
    CHECK(done.load() == tasks);
    std::uint64_t ops = after.io_ops - before.io_ops;
    std::uint64_t enters = after.io_enters - before.io_enters;
    CHECK(ops == tasks * rounds);
    CHECK(after.io_sqes - before.io_sqes >= ops);
    CHECK(enters * 8 <= ops);
    MESSAGE("ops " << ops << ", enters " << enters);
}

namespace {

gorun::task<> overflow_body() {
    constexpr int tasks = 300;
    std::atomic<int> done{0};
    gorun::wait_group wg;
    for (int i = 0; i < tasks; ++i)
        wg.go(nop_loop, 3, &done);
    co_await wg.wait();
    CHECK(done.load() == tasks);
    auto m = gorun::metrics();
    CHECK(m.io_pending == 0);
    // A 4-entry ring has an 8-entry CQ; a pass of 61 tasks overfills it every time.
    CHECK(m.io_cq_overflows > 0);
}

}  // namespace

TEST_CASE("IO-4: completions that overflow the CQ are kept, counted and delivered") {
    gorun::runtime_options opts;
    opts.ring_entries = 4;
    gorun::test::run_body(&overflow_body, 1, opts);
}
