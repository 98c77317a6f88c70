// The coroutine test harness (TESTING.md).
//
//     GORUN_TEST_CASE("recv on a closed channel ...") { ...; co_return; }
//
// The body is a coroutine returning gorun::task<>. It runs on a fresh runtime, once with one
// worker and once with four (behaviour must not depend on the worker count), under a
// watchdog: a test that has not finished after GORUN_TEST_TIMEOUT seconds (default 120)
// prints every live runtime's scheduler state and aborts instead of hanging CI.
// gorun::test::workers() tells the body which run it is in. GORUN_TEST_CASE_WITH(name, {n...})
// picks the worker counts.
#pragma once

#include <gorun/gorun.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <initializer_list>
#include <string>

namespace gorun::test {

using body_fn = gorun::task<> (*)();

// Runs `body` on a new runtime with `workers` workers under the watchdog.
void run_body(body_fn body, unsigned workers, runtime_options opts = {});

// Runs `body` once per worker count.
void run_each(body_fn body, std::initializer_list<unsigned> workers);

// The worker count of the run in progress.
unsigned workers() noexcept;

// GORUN_STRESS_SCALE (default 1): stress tests multiply their sizes by it.
std::uint64_t stress_scale() noexcept;

// True in builds with a sanitizer (sizes may be cut there).
constexpr bool sanitized() {
#if defined(GORUN_SANITIZE) || defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    return true;
#else
    return false;
#endif
}

// The number of file descriptors this process has open (entries of /proc/self/fd, counting the
// one used to list them), for "the fd count is back to baseline" checks.
int open_fds();

// What a forked child left behind: its wait status and everything it wrote to stderr.
struct child_result {
    int status = 0;
    std::string err;
};

// Runs `body` in a forked child (for process-wide state: signals, limits, fatal errors), with
// stderr captured; the child exits with body's return value. The wait is bounded here (60 s,
// then the child is killed and the test sees it) rather than by a watchdog, because a
// watchdog thread would make the parent multi-threaded at fork time, and ThreadSanitizer
// refuses to start threads in the child of a multi-threaded fork. SIGABRT is reset to its
// default in the child: doctest's handler would otherwise catch the abort under test.
child_result run_in_child(const std::function<int()>& body);

// A watchdog for code that runs its own runtime (or none): aborts with a dump after `limit`.
class watchdog {
public:
    explicit watchdog(std::chrono::seconds limit = default_timeout());
    ~watchdog();
    watchdog(const watchdog&) = delete;
    watchdog& operator=(const watchdog&) = delete;
    static std::chrono::seconds default_timeout();

private:
    struct impl;
    impl* impl_;
};

}  // namespace gorun::test

#define GORUN_TEST_CAT2(a, b) a##b
#define GORUN_TEST_CAT(a, b) GORUN_TEST_CAT2(a, b)

#define GORUN_TEST_CASE_WITH(name, ...)                                                            \
    static ::gorun::task<> GORUN_TEST_CAT(gorun_test_body_, __LINE__)();                           \
    TEST_CASE(name) {                                                                              \
        ::gorun::test::run_each(&GORUN_TEST_CAT(gorun_test_body_, __LINE__), __VA_ARGS__);         \
    }                                                                                              \
    static ::gorun::task<> GORUN_TEST_CAT(gorun_test_body_, __LINE__)()

#define GORUN_TEST_CASE(name) GORUN_TEST_CASE_WITH(name, {1u, 4u})
