// Process-wide behaviour checked in forked children: the default panic handler, and the worker
// count derived from the CPU affinity mask.
#include <gorun/channel.hpp>

#include "harness.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <sched.h>
#include <stdexcept>
#include <string>

namespace {

struct child_outcome {
    int status = 0;
    std::string err;  // the child's stderr
};

// Runs `body` in a child with stderr captured. The wait is bounded here rather than by the
// harness watchdog: a watchdog thread would make the parent multi-threaded at fork time, and
// ThreadSanitizer refuses to start threads in the child of a multi-threaded fork.
template <class F>
child_outcome in_child(F body) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        // doctest's fatal-signal handler (inherited) would catch the abort under test.
        ::signal(SIGABRT, SIG_DFL);
        ::dup2(fds[1], STDERR_FILENO);
        ::close(fds[0]);
        ::close(fds[1]);
        int rc = body();
        std::fflush(stderr);
        ::_exit(rc);
    }
    ::close(fds[1]);
    child_outcome out;
    char buf[4096];
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (;;) {
        pollfd p{fds[0], POLLIN, 0};
        int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        deadline - std::chrono::steady_clock::now())
                                        .count());
        if (left <= 0 || ::poll(&p, 1, left) <= 0) {
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

gorun::task<> throws_in_detached_task() {
    gorun::this_task::set_name("doomed");
    throw std::runtime_error("boom from a detached task");
    co_return;
}

gorun::task<> main_that_waits() {
    gorun::go(throws_in_detached_task);
    for (;;)
        co_await gorun::yield();  // the panic ends the process first
}

}  // namespace

TEST_CASE("the default panic handler prints the exception and the spawn site, then aborts") {
    child_outcome r = in_child([] {
        gorun::runtime_options opts;
        opts.workers = 2;
        gorun::run(main_that_waits(), opts);
        return 0;  // not reached
    });
    INFO("child stderr: " << r.err);
    CHECK(WIFSIGNALED(r.status));
    CHECK(WTERMSIG(r.status) == SIGABRT);
    CHECK(r.err.find("panic: boom from a detached task") != std::string::npos);
    CHECK(r.err.find("\"doomed\"") != std::string::npos);
    CHECK(r.err.find("spawned at") != std::string::npos);
    CHECK(r.err.find("process_test.cpp:") != std::string::npos);
}

TEST_CASE("the default worker count follows the CPU affinity mask") {
    child_outcome r = in_child([] {
        ::unsetenv("GORUN_MAXPROCS");
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(0, &one);
        if (::sched_setaffinity(0, sizeof one, &one) != 0)
            return 77;
        gorun::runtime rt;
        return rt.workers() == 1 ? 0 : 1;
    });
    INFO("child stderr: " << r.err);
    REQUIRE(WIFEXITED(r.status));
    CHECK(WEXITSTATUS(r.status) == 0);
}

TEST_CASE("a stalled test body is ended by the watchdog with a dump of the scheduler state") {
    child_outcome r = in_child([] {
        ::setenv("GORUN_TEST_TIMEOUT", "1", 1);
        gorun::test::watchdog dog;  // reads GORUN_TEST_TIMEOUT
        gorun::runtime_options opts;
        opts.workers = 2;
        gorun::run(
            []() -> gorun::task<> {
                gorun::channel<int> nil;
                co_await nil.recv();  // blocks forever
            }(),
            opts);
        return 0;  // not reached
    });
    INFO("child stderr: " << r.err);
    CHECK(WIFSIGNALED(r.status));
    CHECK(r.err.find("gorun test watchdog") != std::string::npos);
    CHECK(r.err.find("2 workers") != std::string::npos);  // the dump of the live runtime
}
