// Cancellation storm (IO-1, TESTING.md "cancel storms"): reads on pipes and eventfds and opens
// of /dev/null, cancelled at random points (before submission, between preparation and the
// flush, in flight, after completion) by other tasks and by a foreign thread, while writers feed
// the pipes and eventfds. Checked:
// - conservation: every byte (pipes) and every count (eventfds) written is read exactly once,
//   by a completed read or by the final drain — a cancelled read took nothing;
// - a cancelled read's buffer holds its sentinel, and every buffer still holds its sentinel
//   after the batch: nothing was written into it after its task resumed;
// - the fd count is back to its baseline (cancelled opens that completed were closed).
#include <gorun/uring.hpp>

#include "harness.hpp"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <memory>
#include <random>
#include <stop_token>
#include <thread>
#include <vector>

namespace {

using gorun::test::open_fds;

constexpr int npipes = 8, nevents = 4, slot_size = 16;
constexpr char sentinel = '\x5A';

struct storm {
    int pipe_r[npipes], pipe_w[npipes], event_fd[nevents];
    std::vector<std::stop_source> stops;
    std::unique_ptr<char[]> arena;  // one slot per op: the read buffers
    std::atomic<std::uint64_t> written{0}, read{0};
    std::atomic<std::uint64_t> cancelled{0}, completed{0}, opened{0};
    std::atomic<bool> failed{false};
    std::atomic<bool> thread_stop{false};
    int batch = 0;

    char* slot(int i) { return arena.get() + static_cast<std::ptrdiff_t>(i) * slot_size; }
};

bool all_sentinel(const char* p, int n) {
    for (int i = 0; i < n; ++i)
        if (p[i] != sentinel)
            return false;
    return true;
}

gorun::task<> reader(storm* s, int i) {
    char* buf = s->slot(i);
    int kind = i % 5;  // 0-2: pipe read, 3: eventfd read, 4: open
    std::stop_token tok = s->stops[i].get_token();
    if (i % 7 == 0)
        co_await gorun::yield();  // some start later: cancelled before submission
    if (kind == 4) {
        int r = co_await gorun::uring::op_returning_fd(
            [](io_uring_sqe* sqe) {
                io_uring_prep_openat(sqe, AT_FDCWD, "/dev/null", O_RDONLY | O_CLOEXEC, 0);
            },
            tok);
        if (r >= 0) {
            ::close(r);
            s->opened.fetch_add(1);
        } else if (r != -ECANCELED) {
            s->failed = true;
        }
        co_return;
    }
    int fd = kind == 3 ? s->event_fd[i % nevents] : s->pipe_r[i % npipes];
    unsigned len = kind == 3 ? 8 : slot_size;
    int r = co_await gorun::uring::op(
        [&](io_uring_sqe* sqe) { io_uring_prep_read(sqe, fd, buf, len, 0); }, tok);
    if (r > 0) {
        std::uint64_t sum = 0;
        if (kind == 3) {
            std::uint64_t v;
            std::memcpy(&v, buf, 8);
            sum = v;
        } else {
            for (int k = 0; k < r; ++k)
                sum += static_cast<unsigned char>(buf[k]);
        }
        s->read.fetch_add(sum);
        s->completed.fetch_add(1);
        std::memset(buf, sentinel, slot_size);  // ours again: from now on nobody writes it
    } else if (r == -ECANCELED) {
        if (!all_sentinel(buf, slot_size))
            s->failed = true;  // a cancelled read delivered nothing, yet the buffer changed
        s->cancelled.fetch_add(1);
    } else {
        s->failed = true;
    }
}

gorun::task<> canceller(storm* s, int n, unsigned seed) {
    std::mt19937 rng(seed);
    for (int k = 0; k < n; ++k) {
        s->stops[rng() % s->stops.size()].request_stop();
        if (rng() % 4 == 0)
            co_await gorun::yield();
    }
}

gorun::task<> writer(storm* s, int n, unsigned seed) {
    std::mt19937 rng(seed);
    for (int k = 0; k < n; ++k) {
        if (rng() % 3 == 0) {
            std::uint64_t v = 1 + rng() % 100;
            if (::write(s->event_fd[rng() % nevents], &v, 8) == 8)
                s->written.fetch_add(v);
        } else {
            unsigned char bytes[4];
            int m = 1 + static_cast<int>(rng() % 4);
            std::uint64_t sum = 0;
            for (int b = 0; b < m; ++b) {
                bytes[b] = static_cast<unsigned char>(1 + rng() % 250);
                sum += bytes[b];
            }
            if (::write(s->pipe_w[rng() % npipes], bytes, static_cast<std::size_t>(m)) == m)
                s->written.fetch_add(sum);
        }
        co_await gorun::yield();
    }
}

// Reads what the storm left in the pipes and eventfds (non-blocking, plain syscalls).
void drain(storm& s) {
    for (int p = 0; p < npipes; ++p)
        REQUIRE(::fcntl(s.pipe_r[p], F_SETFL, O_NONBLOCK) == 0);
    for (int e = 0; e < nevents; ++e)
        REQUIRE(::fcntl(s.event_fd[e], F_SETFL, O_NONBLOCK) == 0);
    for (int p = 0; p < npipes; ++p) {
        unsigned char b[256];
        ssize_t n;
        while ((n = ::read(s.pipe_r[p], b, sizeof b)) > 0)
            for (ssize_t k = 0; k < n; ++k)
                s.read.fetch_add(b[k]);
    }
    for (int e = 0; e < nevents; ++e) {
        std::uint64_t v;
        if (::read(s.event_fd[e], &v, 8) == 8)
            s.read.fetch_add(v);
    }
}

}  // namespace

GORUN_TEST_CASE("IO-1 storm: ops cancelled at random points from tasks and a thread lose "
                "nothing, write no buffer after resume, leak no fd") {
    int fds_before = open_fds();
    const int total = static_cast<int>(
        (gorun::test::sanitized() ? 10'000 : 100'000) * gorun::test::stress_scale());
    constexpr int batch = 2'000;
    storm s;
    for (int p = 0; p < npipes; ++p) {
        int fds[2];
        // Blocking read ends (a read on an O_NONBLOCK fd would report EAGAIN instead of
        // waiting); non-blocking write ends, so a full pipe cannot stall a writer.
        REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
        REQUIRE(::fcntl(fds[1], F_SETFL, O_NONBLOCK) == 0);
        s.pipe_r[p] = fds[0];
        s.pipe_w[p] = fds[1];
    }
    for (int e = 0; e < nevents; ++e) {
        s.event_fd[e] = ::eventfd(0, EFD_CLOEXEC);
        REQUIRE(s.event_fd[e] >= 0);
    }
    s.arena = std::make_unique<char[]>(static_cast<std::size_t>(batch) * slot_size);
    for (int done = 0; done < total; done += batch) {
        s.stops = std::vector<std::stop_source>(batch);
        std::memset(s.arena.get(), sentinel, static_cast<std::size_t>(batch) * slot_size);
        s.thread_stop = false;
        std::thread foreign([&s, seed = done] {
            std::mt19937 rng(static_cast<unsigned>(seed) + 99);
            while (!s.thread_stop.load())
                s.stops[rng() % s.stops.size()].request_stop();
        });
        gorun::wait_group wg;
        for (int i = 0; i < batch; ++i)
            wg.go(reader, &s, i);
        gorun::wait_group helpers;
        for (int c = 0; c < 4; ++c)
            helpers.go(canceller, &s, batch / 4, static_cast<unsigned>(done + c));
        for (int w = 0; w < 2; ++w)
            helpers.go(writer, &s, batch / 8, static_cast<unsigned>(done + 10 + w));
        co_await helpers.wait();
        for (auto& src : s.stops)  // whatever is still pending ends now
            src.request_stop();
        co_await wg.wait();
        s.thread_stop = true;
        foreign.join();
        REQUIRE(!s.failed.load());
        REQUIRE(all_sentinel(s.arena.get(), batch * slot_size));
        CHECK(gorun::metrics().io_pending == 0);
    }
    drain(s);
    CHECK(s.read.load() == s.written.load());
    CHECK(s.cancelled.load() + s.completed.load() + s.opened.load() > 0);
    MESSAGE(
        "ops " << total << ": cancelled reads " << s.cancelled.load() << ", completed reads "
               << s.completed.load() << ", opens that won " << s.opened.load());
    for (int p = 0; p < npipes; ++p) {
        ::close(s.pipe_r[p]);
        ::close(s.pipe_w[p]);
    }
    for (int e = 0; e < nevents; ++e)
        ::close(s.event_fd[e]);
    CHECK(open_fds() == fds_before);
}
