// gorun/signal_set.hpp — waiting for POSIX signals in a task (SIGINT, SIGTERM, SIGHUP, ...).
//
//     int main() {
//         gorun::signal_set stop_signals{SIGINT, SIGTERM};   // before the runtime starts
//         return gorun::run(serve(stop_signals));
//     }
//     ... int sig = (co_await stop_signals.wait()).value();  // then shut down cleanly
//
// The set blocks its signals in the calling thread and reads them from a signalfd through the
// worker's io_uring, so a signal is an ordinary completion: no handler runs, nothing async-
// signal-unsafe can happen, and a worker never blocks. Threads inherit their creator's signal
// mask, so construct the set on the main thread *before* gorun::run or gorun::runtime starts
// its workers; a signal a thread did not block is delivered the usual way instead.
// A signalfd read returns the signals pending for the process or for the reading thread (here a
// worker, or a kernel helper acting for it): signals sent to the process (kill, Ctrl-C, a
// service manager's SIGTERM) are always seen; one directed at another thread (raise() or
// pthread_kill elsewhere) stays pending on that thread and may never be.
#pragma once

#include <gorun/io_control.hpp>
#include <gorun/io_result.hpp>
#include <gorun/task.hpp>

#include <initializer_list>
#include <utility>

namespace gorun {

/// A set of signals, blocked for normal delivery and awaited instead.
///
/// Suspends: wait(). Thread-safety: one waiter at a time. The destructor closes the signalfd;
/// the signals stay blocked (a pending one is not lost to a default action mid-shutdown).
/// Errors: the constructor throws std::system_error if the signalfd cannot be made (EMFILE).
class signal_set {
public:
    explicit signal_set(std::initializer_list<int> signals);
    signal_set(signal_set&& o) noexcept
        : fd_(std::exchange(o.fd_, -1)) {}
    signal_set& operator=(signal_set&&) = delete;
    signal_set(const signal_set&) = delete;
    signal_set& operator=(const signal_set&) = delete;
    ~signal_set();

    /// Waits for one of the signals and returns its number. Errors: ECANCELED/ETIMEDOUT per
    /// `ctl`. A signal raised before wait() is kept pending and returned at once.
    [[nodiscard]] task<io_result<int>> wait(io_control ctl = {}) const;

private:
    int fd_ = -1;
};

}  // namespace gorun
