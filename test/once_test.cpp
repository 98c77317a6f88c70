// once: Go's sync.Once for tasks (docs/design/sync.md: SYNC-3, SYNC-5, SYNC-7).
#include "harness.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <stdexcept>
#include <string>

namespace {

struct shared {
    gorun::once o;
    std::atomic<int> runs{0};
    std::atomic<bool> finished{false};
    std::atomic<int> resumed{0};
    std::atomic<int> early{0};  // callers that returned before the run finished
};

// Suspends several times, so that the other callers arrive while it runs.
gorun::task<> slow_init(shared* s) {
    s->runs.fetch_add(1);
    for (int i = 0; i < 20; ++i)
        co_await gorun::yield();
    s->finished.store(true);
}

gorun::task<> caller(shared* s) {
    co_await s->o.call(slow_init, s);
    if (!s->finished.load())
        s->early.fetch_add(1);
    s->resumed.fetch_add(1);
}

gorun::task<int> answer(std::atomic<int>* runs) {
    runs->fetch_add(1);
    co_await gorun::yield();
    co_return 42;
}

gorun::task<> fails_after_waiters_queued(gorun::once* o, gorun::wait_group* others) {
    // The other callers start while this run is in progress and must wait for it.
    for (int i = 0; i < 10; ++i)
        others->go(
            [](gorun::once* o) -> gorun::task<> {
                co_await o->call([] { throw std::logic_error("never runs"); });
            },
            o);
    for (int i = 0; i < 20; ++i)
        co_await gorun::yield();
    throw std::runtime_error("init failed");
}

gorun::task<> recursive_call(gorun::once* o) {
    co_await o->call(recursive_call, o);
}

}  // namespace

GORUN_TEST_CASE("SYNC-5: once runs the function exactly once with 50 concurrent callers, and every "
                "caller resumes after it finished") {
    shared s;
    CHECK_FALSE(s.o.done());
    gorun::wait_group wg;
    for (int i = 0; i < 50; ++i)
        wg.go(caller, &s);
    co_await wg.wait();
    CHECK(s.runs.load() == 1);
    CHECK(s.resumed.load() == 50);
    CHECK(s.early.load() == 0);
    CHECK(s.o.done());
    co_await s.o.call(slow_init, &s);  // done: returns at once, runs nothing
    CHECK(s.runs.load() == 1);
}

GORUN_TEST_CASE("a plain function runs with its arguments; later calls, with any function, return "
                "without running theirs") {
    gorun::once o;
    int x = 0;
    co_await o.call([](int* p, int v) { *p = v; }, &x, 7);
    CHECK(x == 7);
    CHECK(o.done());
    co_await o.call([](int* p) { *p = 99; }, &x);
    CHECK(x == 7);
}

GORUN_TEST_CASE("done is false while the function runs and true once it has returned") {
    gorun::once o;
    bool during = true;
    co_await o.call(
        [](gorun::once* o, bool* during) -> gorun::task<> {
            co_await gorun::yield();
            *during = o->done();
        },
        &o,
        &during);
    CHECK_FALSE(during);
    CHECK(o.done());
}

GORUN_TEST_CASE("a function returning task<int> is awaited and its result discarded; arguments "
                "are copied, so temporaries may be passed") {
    gorun::once o;
    std::atomic<int> runs{0};
    co_await o.call(answer, &runs);
    CHECK(runs.load() == 1);

    gorun::once o2;
    std::string out;
    // The awaitable is kept and awaited later: the temporary string must live in it.
    auto pending = o2.call(
        [](std::string* out, const std::string& s) -> gorun::task<> {
            co_await gorun::yield();
            *out = s;
        },
        &out,
        std::string("a string too long for the small-string buffer"));
    co_await pending;
    CHECK(out == "a string too long for the small-string buffer");
}

GORUN_TEST_CASE("SYNC-5: an exception from a plain function reaches the caller that ran it, and "
                "the once counts as done") {
    gorun::once o;
    bool caught = false;
    try {
        co_await o.call([] { throw std::runtime_error("boom"); });
    } catch (const std::runtime_error& e) {
        caught = std::string(e.what()) == "boom";
    }
    CHECK(caught);
    CHECK(o.done());
    bool ran_again = false;
    co_await o.call([](bool* r) { *r = true; }, &ran_again);
    CHECK_FALSE(ran_again);
}

GORUN_TEST_CASE("SYNC-5: when a task function throws, its caller gets the exception and the "
                "callers waiting for it return normally") {
    gorun::once o;
    gorun::wait_group others;
    bool caught = false;
    try {
        co_await o.call(fails_after_waiters_queued, &o, &others);
    } catch (const std::runtime_error& e) {
        caught = std::string(e.what()) == "init failed";
    }
    CHECK(caught);
    CHECK(o.done());
    co_await others.wait();  // each returned normally (an exception would reach the panic handler)
}

GORUN_TEST_CASE("SYNC-3: a once in the waiter's frame may be destroyed as soon as call returns") {
    // The runner's finish() races with this caller returning and destroying the once (the next
    // round builds a new one in the same place); ASan/TSan flag any late touch.
    for (int i = 0; i < 5000; ++i) {
        gorun::once o;
        std::atomic<bool> started{false};
        gorun::go(
            [](gorun::once* o, std::atomic<bool>* started) -> gorun::task<> {
                co_await o->call(
                    [](std::atomic<bool>* started) -> gorun::task<> {
                        started->store(true);
                        co_await gorun::yield();
                    },
                    started);
            },
            &o,
            &started);
        while (!started.load())
            co_await gorun::yield();
        bool ran = false;
        co_await o.call([](bool* r) { *r = true; }, &ran);
        CHECK_FALSE(ran);
    }
}

TEST_CASE("SYNC-7: calling call from within the function it runs is fatal, not a silent hang") {
    gorun::test::child_result r = gorun::test::run_in_child([] {
        gorun::runtime_options opts;
        opts.workers = 1;
        gorun::once o;
        gorun::run(recursive_call(&o), opts);
        return 0;
    });
    CHECK(WIFSIGNALED(r.status));
    CHECK(WTERMSIG(r.status) == SIGABRT);
    CHECK(
        r.err.find("once::call called from within the function it is running")
        != std::string::npos);
}
