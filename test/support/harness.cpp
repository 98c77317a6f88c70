// See harness.hpp.
#define DOCTEST_CONFIG_IMPLEMENT
#include "harness.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <dirent.h>
#include <mutex>
#include <thread>

namespace gorun::test {

namespace {
unsigned current_workers = 0;
}

int open_fds() {
    int n = 0;
    if (DIR* d = ::opendir("/proc/self/fd")) {
        while (::readdir(d))
            ++n;
        ::closedir(d);
    }
    return n;
}

struct watchdog::impl {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    std::thread thread;
};

std::chrono::seconds watchdog::default_timeout() {
    if (const char* env = std::getenv("GORUN_TEST_TIMEOUT")) {
        long v = std::strtol(env, nullptr, 10);
        if (v > 0)
            return std::chrono::seconds(v);
    }
    return std::chrono::seconds(sanitized() ? 300 : 120);
}

watchdog::watchdog(std::chrono::seconds limit)
    : impl_(new impl) {
    impl_->thread = std::thread([this, limit] {
        std::unique_lock lock(impl_->mu);
        // A timeout, not synchronisation: the test signals `done` when it ends.
        if (!impl_->cv.wait_for(lock, limit, [this] { return impl_->done; })) {
            std::fprintf(
                stderr,
                "\ngorun test watchdog: the test has not finished after %lld s; scheduler "
                "state:\n",
                static_cast<long long>(limit.count()));
            dump_all_runtimes(stderr, true);  // hung: the op lists no longer change
            std::fflush(stderr);
            std::abort();
        }
    });
}

watchdog::~watchdog() {
    {
        std::lock_guard lock(impl_->mu);
        impl_->done = true;
    }
    impl_->cv.notify_all();
    impl_->thread.join();
    delete impl_;
}

void run_body(body_fn body, unsigned workers, runtime_options opts) {
    opts.workers = workers;
    current_workers = workers;
    watchdog dog;
    INFO("workers: " << workers);
    gorun::run(body(), opts);
}

void run_each(body_fn body, std::initializer_list<unsigned> workers) {
    for (unsigned w : workers) {
        CAPTURE(w);
        run_body(body, w);
    }
}

unsigned workers() noexcept {
    return current_workers;
}

child_result run_in_child(const std::function<int()>& body) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    std::fflush(nullptr);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::signal(SIGABRT, SIG_DFL);
        ::dup2(fds[1], STDERR_FILENO);
        ::close(fds[0]);
        ::close(fds[1]);
        int rc = body();
        std::fflush(stderr);
        ::_exit(rc);
    }
    ::close(fds[1]);
    child_result out;
    char buf[4096];
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (;;) {
        pollfd p{fds[0], POLLIN, 0};
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                        deadline - std::chrono::steady_clock::now())
                        .count();
        if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) {
            ::kill(pid, SIGKILL);  // a hang fails the test instead of CI
            out.err += "\n[the child did not finish in 60 s and was killed]";
            break;
        }
        ssize_t n = ::read(fds[0], buf, sizeof buf);
        if (n <= 0)
            break;
        out.err.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fds[0]);
    ::waitpid(pid, &out.status, 0);
    return out;
}

std::uint64_t stress_scale() noexcept {
    if (const char* env = std::getenv("GORUN_STRESS_SCALE")) {
        long long v = std::strtoll(env, nullptr, 10);
        if (v > 0)
            return static_cast<std::uint64_t>(v);
    }
    return 1;
}

}  // namespace gorun::test

int main(int argc, char** argv) {
    doctest::Context ctx;
    ctx.applyCommandLine(argc, argv);
    return ctx.run();
}
