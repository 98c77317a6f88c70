// The scheduler's view of a task, and the few runtime entry points that templates call.
//
// Design
// A *task* in the scheduler's sense is a root coroutine started by go/spawn/run. It may await
// nested task<T> coroutines; those run on the root's behalf and are never scheduled on their
// own. What the run queues hold is a pointer to the root's task_base; `resume_` says which
// frame of the chain to resume (the innermost one that suspended). Every awaiter that parks a
// task records that frame through detail::park_current() before handing the task to whatever
// wakes it, so wakers never need to know the frame layout.
//
// Every frame made by a gorun promise (root or nested) is allocated by frame_alloc with a
// frame_header in front of it (src/frame.hpp): the header keeps the block in its home
// worker's list and says whether it holds a root, so that shutdown can destroy every
// unfinished task exactly once (SCHED-1); it outlives the promise, so a block freed on
// another worker can be sent home.
//
// Threads: a task_base is touched by one thread at a time — whoever runs the task, or whoever
// holds it in a queue or wait list. The hand-off between them is the queue's or wait list's
// synchronisation. `join_` is the one field shared concurrently (joiner vs. the finishing
// task); see spawn.hpp.
#pragma once

#include <gorun/config.hpp>

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <limits>
#include <source_location>
#include <stop_token>

namespace gorun::detail {

struct runtime_state;

// join_ states (any other value is the task_base* of the one task awaiting the join handle).
inline constexpr std::uintptr_t join_running = 0;   // a join_handle exists, nobody waits yet
inline constexpr std::uintptr_t join_done = 1;      // finished; the handle owns the frame
inline constexpr std::uintptr_t join_detached = 2;  // no handle: the frame frees itself
inline constexpr std::uintptr_t join_main = 3;      // the task of run()/block_on(): see main_

// What a task inherits from the scope it was started in (task_group, when_all, when_any):
// Go's context.Context, implicit. It lives in the scope's state, which outlives every task
// started in it. Tasks started with go/spawn belong to no scope (ctx_ == nullptr): they may
// outlive whoever started them, like goroutines, which inherit no context either.
struct task_context {
    std::stop_token token;  // stop requested: the scope (or an enclosing one) is cancelled
    std::int64_t deadline_ns =
        std::numeric_limits<std::int64_t>::max();  // steady_clock; max = none
};

struct join_handle_base;
struct main_waiter;  // src/runtime_state.hpp

// Fields marked (root) are set by start_root (or run/block_on) and read only for roots; they
// are left uninitialised in nested frames on purpose: every task<T> call pays for stores here.
struct task_base {
    std::coroutine_handle<> resume_;  // frame to resume when scheduled (set by park_current)
    task_base* link_;                 // intrusive link for the global queue (set on push)
    runtime_state* rt_;               // the runtime this task belongs to (root)
    std::uint64_t id_;                // unique id (root)
    std::source_location site_;       // where go/spawn was called (root)
    const char* name_ = nullptr;      // optional, must outlive the task
    const task_context* ctx_;         // the scope the task runs in, or nullptr (root)
    // A root has a join handle, or is the main task of run()/block_on() (join_ == join_main),
    // never both: one word serves either (a parked task costs its frame, so words count).
    union {
        join_handle_base* handle_ = nullptr;  // the live join_handle, for shutdown
        main_waiter* main_;                   // who waits for the main task
    };
    std::atomic<std::uintptr_t> join_{join_detached};
};

// ---- frame allocation (src/frame.cpp) ----
void* frame_alloc(std::size_t n);
void frame_free(void* p, std::size_t n) noexcept;

// ---- scheduler entry points (src/runtime.cpp) ----
// Not inline on purpose: they read thread_local state, and Clang may cache a thread_local's
// address across a suspension point of a coroutine that inlined the access, which breaks when
// the task resumes on another worker (llvm/llvm-project#47179; test/task_test.cpp has the
// regression test "thread-local worker state is re-read after a task migrates").
task_base* current_task() noexcept;

// Records `h` as the frame to resume and returns the running task, which the caller then
// hands to a wait list / timer / waker. Fatal outside a gorun task.
task_base* park_current(std::coroutine_handle<> h) noexcept;

// Makes a parked task runnable. On a worker of the task's runtime it goes to that worker's
// `next` slot (it runs as soon as the current task suspends); elsewhere it is injected.
void ready(task_base* t) noexcept;

// Starts a root whose frame is `h` (suspended at its initial suspend point) on the current
// worker, or injects it into `rt` (which must then be non-null) from a foreign thread.
void start_root(
    runtime_state* rt,
    task_base& t,
    std::coroutine_handle<> h,
    const std::source_location& site,
    const task_context* ctx = nullptr) noexcept;

// The scope context of the running task, or nullptr (no task, or a task of no scope).
const task_context* current_context() noexcept;

// The runtime of the calling worker, or nullptr on a thread that is not a worker.
runtime_state* current_runtime() noexcept;

}  // namespace gorun::detail
