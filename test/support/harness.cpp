// See harness.hpp.
#define DOCTEST_CONFIG_IMPLEMENT
#include "harness.hpp"

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

namespace gorun::test {

namespace {
unsigned current_workers = 0;
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
            dump_all_runtimes(stderr);
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
