// gorun/config.hpp — compile-time knobs shared by every gorun header.
//
// Users normally never include this directly; every public header does.
#pragma once

// GORUN_TAIL_CALLS is 1 where the compiler turns symmetric transfer (an await_suspend that
// returns a coroutine_handle) into a real tail call, so that resuming a long chain of
// coroutines does not grow the thread's stack. Clang does so at every optimisation level;
// GCC 12 only with optimisation on and without sanitizers. Where it is 0 the runtime avoids
// relying on it: a finishing task wakes its joiner through the scheduler instead of jumping
// straight into it. User code that awaits a long chain of synchronously completing tasks
// still needs it (see test/task_test.cpp).
#if defined(__clang__)
#define GORUN_TAIL_CALLS 1
#elif defined(__GNUC__) && defined(__OPTIMIZE__) && !defined(__SANITIZE_ADDRESS__)                 \
    && !defined(__SANITIZE_THREAD__) && !defined(GORUN_SANITIZE)
#define GORUN_TAIL_CALLS 1
#else
#define GORUN_TAIL_CALLS 0
#endif

// Debug builds (no NDEBUG) randomise scheduling decisions from a printed seed so that races
// show up and can be replayed (GORUN_TEST_SEED). Define GORUN_SHUFFLE=0 to turn that off.
#ifndef GORUN_SHUFFLE
#ifdef NDEBUG
#define GORUN_SHUFFLE 0
#else
#define GORUN_SHUFFLE 1
#endif
#endif

// Marks a function whose result is an awaitable that does nothing until it is awaited.
#define GORUN_NODISCARD_AWAIT                                                                      \
    [[nodiscard("this returns an awaitable: co_await it, or nothing happens")]]
