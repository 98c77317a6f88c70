// signal_set: a blocked signal arrives as the result of wait(), on a worker, without a handler.
#include <gorun/signal_set.hpp>

#include "harness.hpp"

#include <signal.h>
#include <unistd.h>

#include <stop_token>

namespace {

gorun::task<int> wait_for_usr1(const gorun::signal_set* s) {
    // Raised by another task after we start waiting, and once more before the next wait.
    gorun::go([]() -> gorun::task<> {
        co_await gorun::yield();
        ::kill(::getpid(), SIGUSR1);
    });
    auto first = co_await s->wait();
    ::kill(::getpid(), SIGUSR2);
    auto second = co_await s->wait();  // pending already: returns at once
    std::stop_source stop;
    stop.request_stop();
    auto cancelled = co_await s->wait(stop.get_token());
    co_return first.value() == SIGUSR1&& second.value() == SIGUSR2&& cancelled.error()
            == std::errc::operation_canceled
        ? 0
        : 1;
}

}  // namespace

TEST_CASE("signals in the set arrive through wait(), pending ones at once; a stop cancels") {
    // In a child: the signal mask is process-wide state.
    auto r = gorun::test::run_in_child([] {
        gorun::signal_set s{SIGUSR1, SIGUSR2};
        gorun::runtime_options o;
        o.workers = 2;
        return gorun::run(wait_for_usr1(&s), o);
    });
    INFO(r.err);
    CHECK(r.status == 0);
}
