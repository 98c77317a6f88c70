// The end of a root task, join handles, and panics (see spawn.hpp for the join protocol).
#include <gorun/runtime.hpp>
#include <gorun/spawn.hpp>

#include <gorun/detail/promise.hpp>

#include "runtime_state.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <exception>

namespace gorun::detail {

void finish_main(task_base& t) noexcept;  // runtime.cpp

[[noreturn]] void fatal(const char* msg) noexcept {
    std::fprintf(stderr, "gorun: fatal: %s\n", msg);
    std::fflush(stderr);
    std::abort();
}

namespace {

void default_panic(const panic_info& info) {
    std::string what = "unknown exception";
    try {
        std::rethrow_exception(info.exception);
    } catch (const std::exception& e) {
        what = e.what();
    } catch (...) {
    }
    fmt::print(
        stderr,
        "gorun: panic: {}\n\ntask {}{}{}{} spawned at {}:{} in {}\n",
        what,
        info.task_id,
        info.task_name ? " \"" : "",
        info.task_name ? info.task_name : "",
        info.task_name ? "\"" : "",
        info.spawn_site.file_name(),
        info.spawn_site.line(),
        info.spawn_site.function_name());
    std::fflush(stderr);
    std::abort();
}

// An exception nobody will observe: hand it to the runtime's panic handler.
void panic(promise_base& p) noexcept {
    panic_info info{p.id_, p.name_, p.site_, p.exception_};
    panic_handler h = p.rt_ && p.rt_->opts.on_panic ? p.rt_->opts.on_panic : &default_panic;
    try {
        h(info);
    } catch (...) {
        fatal("the panic handler threw");
    }
}

}  // namespace

std::coroutine_handle<> root_finished(promise_base& p, std::coroutine_handle<> self) noexcept {
    if (p.join_.load(std::memory_order_relaxed) == join_main) {
        // The frame belongs to run()/block_on(), which reads the result after this.
        finish_main(p);
        return std::noop_coroutine();
    }
    if (worker* w = this_worker())
        w->stat_finished.inc();
    // A task started by go has had no handle from birth: no race on the join word, so skip
    // the read-modify-write. Acquire pairs with a detaching handle's exchange.
    std::uintptr_t old = p.join_.load(std::memory_order_acquire);
    if (old != join_detached)
        old = p.join_.exchange(join_done, std::memory_order_acq_rel);
    if (old == join_detached) {
        if (p.exception_)
            panic(p);
        self.destroy();
        return std::noop_coroutine();
    }
    if (old == join_running)
        return std::noop_coroutine();  // the handle will collect the result
    auto* waiter = reinterpret_cast<task_base*>(old);
#if GORUN_TAIL_CALLS
    worker* w = this_worker();
    if (w && w->rt == waiter->rt_) {
        // Run the joiner right here: it is waiting for exactly this result, and jumping into
        // it keeps the data hot (the common fork-join case).
        w->current = waiter;
        return waiter->resume_;
    }
#endif
    ready(waiter);
    return std::noop_coroutine();
}

void join_handle_base::detach_slow() noexcept {
    promise_base* p = promise_;
    void* frame = frame_;
    promise_ = nullptr;
    frame_ = nullptr;
    p->handle_ = nullptr;  // before the exchange: after it the task may free itself
    std::uintptr_t old = p->join_.exchange(join_detached, std::memory_order_acq_rel);
    if (old == join_done) {
        if (p->exception_)
            panic(*p);
        std::coroutine_handle<>::from_address(frame).destroy();
    }
}

bool join_handle_base::join_suspend(std::coroutine_handle<> awaiting) noexcept {
    task_base* me = park_current(awaiting);
    std::uintptr_t expected = join_running;
    // Release publishes me->resume_ to the finishing task; acquire on failure pairs with its
    // exchange so the result is visible when we continue without suspending.
    return promise_->join_.compare_exchange_strong(
        expected,
        reinterpret_cast<std::uintptr_t>(me),
        std::memory_order_release,
        std::memory_order_acquire);
}

}  // namespace gorun::detail
