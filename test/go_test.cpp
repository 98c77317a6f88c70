// go: detached tasks, arguments moved into the frame, panics.
#include "harness.hpp"

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>

namespace {

gorun::task<> add_to(std::atomic<int>* sum, int v, gorun::wait_group* wg) {
    co_await gorun::yield();
    sum->fetch_add(v);
    wg->done();
}

// Takes its argument by reference: go must bind it to a copy that lives in the new task's
// frame, not to the caller's variable (which is gone by the time this runs).
gorun::task<> by_ref(const std::string& s, std::string* out, gorun::wait_group* wg) {
    co_await gorun::yield();
    *out = s;
    wg->done();
}

void plain_function(std::atomic<int>* hits, gorun::wait_group* wg) {
    hits->fetch_add(1);
    wg->done();
}

}  // namespace

GORUN_TEST_CASE("go runs a function returning task<> with its arguments") {
    std::atomic<int> sum{0};
    gorun::wait_group wg;
    wg.add(100);
    for (int i = 1; i <= 100; ++i)
        gorun::go(add_to, &sum, i, &wg);
    co_await wg.wait();
    CHECK(sum.load() == 5050);
}

GORUN_TEST_CASE("go moves a capturing lambda into the task frame, so it cannot dangle") {
    // The lambda object and its captures are temporaries of this statement; under ASan a
    // dangling capture would be a use-after-scope / use-after-free when the task runs later.
    std::string result;
    gorun::wait_group wg;
    wg.add(1);
    {
        std::string payload(64, 'x');  // heap-allocated: dangling would be caught
        gorun::go([payload, &result, &wg]() -> gorun::task<> {
            co_await gorun::yield();
            result = payload;
            wg.done();
        });
        payload.assign(64, 'y');  // the task must have its own copy
    }
    co_await wg.wait();
    CHECK(result == std::string(64, 'x'));
}

GORUN_TEST_CASE("go binds reference parameters to copies owned by the task") {
    std::string out;
    gorun::wait_group wg;
    wg.add(1);
    {
        std::string arg = "owned by the frame";
        gorun::go(by_ref, arg, &out, &wg);
        arg = "changed";
    }
    co_await wg.wait();
    CHECK(out == "owned by the frame");
}

GORUN_TEST_CASE("go accepts move-only arguments and plain functions") {
    std::atomic<int> hits{0};
    gorun::wait_group wg;
    wg.add(2);
    auto p = std::make_unique<int>(41);
    gorun::go(
        [](std::unique_ptr<int> q, std::atomic<int>* h, gorun::wait_group* w) -> gorun::task<> {
            co_await gorun::yield();
            h->fetch_add(*q == 41 ? 1 : 100);
            w->done();
        },
        std::move(p),
        &hits,
        &wg);
    gorun::go(plain_function, &hits, &wg);
    co_await wg.wait();
    CHECK(hits.load() == 2);
}

namespace {
std::atomic<int> panics{0};
std::atomic<unsigned> panic_line{0};
std::string panic_what;

void record_panic(const gorun::panic_info& info) {
    try {
        std::rethrow_exception(info.exception);
    } catch (const std::exception& e) {
        panic_what = e.what();
    }
    panic_line.store(info.spawn_site.line());
    panics.fetch_add(1);
}

gorun::task<> throws_later() {
    co_await gorun::yield();
    throw std::runtime_error("unrecovered");
}

gorun::task<> panicking_main() {
    gorun::go(throws_later);
    unsigned expected_line = __LINE__ - 1;
    while (panics.load() == 0)
        co_await gorun::yield();
    CHECK(panic_line.load() == expected_line);
    CHECK(panic_what == "unrecovered");
}
}  // namespace

TEST_CASE("an exception escaping a go task reaches the panic handler with its spawn site") {
    gorun::test::watchdog dog;
    gorun::runtime_options opts;
    opts.on_panic = &record_panic;
    for (unsigned w : {1u, 4u}) {
        panics = 0;
        opts.workers = w;
        gorun::run(panicking_main(), opts);
        CHECK(panics.load() == 1);
    }
}
