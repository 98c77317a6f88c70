// Process-wide behaviour checked in forked children: the default panic handler, and the worker
// count derived from the CPU affinity mask.
#include "harness.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

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

// Runs `body` in a child with stderr captured; bounded by the harness watchdog.
template <class F>
child_outcome in_child(F body) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
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
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof buf)) > 0)
        out.err.append(buf, static_cast<std::size_t>(n));
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
    gorun::test::watchdog dog;
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
    gorun::test::watchdog dog;
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
