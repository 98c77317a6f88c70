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
    gorun::test::child_result r = gorun::test::run_in_child([] {
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
    gorun::test::child_result r = gorun::test::run_in_child([] {
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
    gorun::test::child_result r = gorun::test::run_in_child([] {
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
