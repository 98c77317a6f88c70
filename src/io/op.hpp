// The worker's side of I/O operations (include/gorun/detail/io_op.hpp has the protocol).
#pragma once

#include <cstdio>

namespace gorun::detail {

struct worker;

// Housekeeping: submits the cancellations other threads queued for ops homed here, and resumes
// the tasks of queued ops whose completion arrived meanwhile.
void io_process_cancels(worker& w) noexcept;

// Housekeeping: runs the functions other tasks queued for this worker's ring
// (uring::on_every_ring, src/io/ring_calls.cpp) and resumes each batch's task after its last.
void run_ring_calls(worker& w) noexcept;

// Shutdown (IO-2), on the worker's own thread once it has stopped running tasks: cancels every
// op in flight on its ring and reaps until the last completion has arrived. No task is resumed;
// an fd an op produced is closed. Afterwards the kernel refers to no frame.
void io_drain(worker& w) noexcept;

// For dumps (runtime::dump, the test watchdog), from any thread: the ring's state and one line
// per op in flight on `w` — its state, the CQEs still to come, each slot's opcode and fd, and
// whether it waits in the io_cancels list. Reads owner-only fields without synchronisation: a
// best-effort snapshot, meant for a runtime that is stuck (its workers parked).
// `ops`: also list each op in flight. The list is the worker's own, walked here without
// synchronisation: only for a process that is hung (the test watchdog), where it no longer
// changes; never for a live dump (runtime::dump), where an op could be freed under us.
void io_dump(const worker& w, std::FILE* out, bool ops) noexcept;

// Wakes `to` (parked or not) so that it runs its housekeeping soon; any thread.
void wake_worker(worker& to) noexcept;

}  // namespace gorun::detail
