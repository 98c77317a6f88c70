// IO-2: ending the runtime while tasks wait on in-flight ops cancels the ops, reaps their
// completions, destroys every suspended frame once and leaves the fd count where it was.
#include <gorun/blocking.hpp>
#include <gorun/uring.hpp>

#include "harness.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <dirent.h>
#include <mutex>
#include <thread>

using namespace std::chrono_literals;

namespace {

using gorun::test::open_fds;

struct counted {
    static inline std::atomic<int> constructed{0};
    static inline std::atomic<int> destroyed{0};
    counted() { constructed.fetch_add(1); }
    counted(const counted&) { constructed.fetch_add(1); }
    ~counted() { destroyed.fetch_add(1); }
};

gorun::task<> pending_read(counted c, int fd) {
    (void)c;
    char buf[32];
    int r = co_await gorun::uring::op(
        [&](io_uring_sqe* sqe) { io_uring_prep_read(sqe, fd, buf, sizeof buf, 0); });
    (void)r;
    FAIL("a pending read was resumed at shutdown");
}

gorun::task<> pending_splice(counted c, int from, int to) {
    (void)c;
    int r = co_await gorun::uring::op(
        [&](io_uring_sqe* sqe) { io_uring_prep_splice(sqe, from, -1, to, -1, 4096, 0); });
    (void)r;
    FAIL("a pending splice was resumed at shutdown");
}

gorun::task<> pending_chain(counted c, int fd) {
    (void)c;
    char a[8], b[8];
    auto r = co_await gorun::uring::linked<2>([&](std::span<io_uring_sqe*, 2> s) {
        io_uring_prep_read(s[0], fd, a, sizeof a, 0);
        io_uring_prep_read(s[1], fd, b, sizeof b, 0);
    });
    (void)r;
    FAIL("a pending chain was resumed at shutdown");
}

// Queued behind a blocked pool thread (cap 1): dropped at shutdown, unless the pool thread
// got free and took it before the shutdown reached the pool (then it runs normally).
gorun::task<> queued_blocking(counted c) {
    (void)c;
    co_await gorun::blocking([] {});
}

struct gate {
    std::mutex mu;
    std::condition_variable cv;
    bool open = false;
    bool entered = false;
    bool main_done = false;
};

gorun::task<> running_blocking(counted c, gate* g) {
    (void)c;
    co_await gorun::blocking([g] {
        std::unique_lock lock(g->mu);
        g->entered = true;
        g->cv.notify_all();
        g->cv.wait(lock, [g] { return g->open; });
    });
}

int pipe_r = -1, pipe_w = -1, null_fd = -1;
int reads = 0;

gorun::task<> leave_ops_in_flight(gate* g) {
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    pipe_r = fds[0];
    pipe_w = fds[1];
    null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    for (int i = 0; i < reads; ++i)
        gorun::go(pending_read, counted{}, pipe_r);
    for (int i = 0; i < 8; ++i)
        gorun::go(pending_splice, counted{}, pipe_r, null_fd);
    for (int i = 0; i < 16; ++i)
        gorun::go(pending_chain, counted{}, pipe_r);
    gorun::go(running_blocking, counted{}, g);
    for (;;) {  // until the pool's one thread is busy (the task must run first: yield)
        {
            std::lock_guard lock(g->mu);
            if (g->entered)
                break;
        }
        co_await gorun::yield();
    }
    for (int i = 0; i < 4; ++i)
        gorun::go(queued_blocking, counted{});
    while (gorun::metrics().io_pending < static_cast<std::uint64_t>(reads + 8 + 16))
        co_await gorun::yield();
    // The fds stay open until after run(): closing the write end would end the reads with
    // EOF, and a splice waiting in io-wq looks its input fd up only when it starts. Only the
    // shutdown's cancellation may end these ops.
    // The blocking call is still running as the main task ends: shutdown must wait for it
    // (the releaser opens the gate only now) rather than destroy its frame under it.
    std::lock_guard lock(g->mu);
    g->main_done = true;
    g->cv.notify_all();
}

}  // namespace

TEST_CASE("IO-2: shutdown with thousands of pending ops cancels them, destroys each frame once "
          "and restores the fd count") {
    gorun::test::watchdog dog;
    reads = gorun::test::sanitized() ? 2000 : 5000;
    int fds_before = open_fds();
    for (unsigned w : {1u, 4u}) {
        CAPTURE(w);
        counted::constructed = 0;
        counted::destroyed = 0;
        gate g;
        gorun::runtime_options opts;
        opts.workers = w;
        opts.blocking_threads = 1;
        std::thread releaser([&g] {
            std::unique_lock lock(g.mu);
            g.cv.wait(lock, [&g] { return g.main_done; });
            // Not synchronisation (the test passes in either order): a moment's delay makes
            // it likely that shutdown is already waiting for the running call.
            lock.unlock();
            std::this_thread::sleep_for(20ms);
            lock.lock();
            g.open = true;
            g.cv.notify_all();
        });
        auto t0 = std::chrono::steady_clock::now();
        gorun::run(leave_ops_in_flight(&g), opts);
        releaser.join();
        ::close(pipe_r);
        ::close(pipe_w);
        ::close(null_fd);
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - t0)
                      .count();
        CHECK(counted::constructed.load() >= reads + 8 + 16 + 5);
        CHECK(counted::destroyed.load() == counted::constructed.load());
        CHECK(open_fds() == fds_before);
        MESSAGE(
            "" << reads + 24 << " ops in flight at the end; run + shutdown took " << ms << " ms");
    }
}
