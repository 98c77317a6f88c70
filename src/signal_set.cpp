// See signal_set.hpp: a blocked signal mask plus a signalfd read through the ring.
#include <gorun/signal_set.hpp>
#include <gorun/uring.hpp>

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace gorun {

signal_set::signal_set(std::initializer_list<int> signals) {
    sigset_t set;
    sigemptyset(&set);
    for (int s : signals)
        sigaddset(&set, s);
    sigset_t old;
    if (int e = ::pthread_sigmask(SIG_BLOCK, &set, &old))
        throw std::system_error(e, std::generic_category(), "gorun::signal_set: pthread_sigmask");
    fd_ = ::signalfd(-1, &set, SFD_CLOEXEC);
    if (fd_ < 0) {
        int e = errno;
        // No set, so nobody will ever read these signals: put the mask back, or SIGINT/SIGTERM
        // would stay silently blocked for this thread (and the threads it starts later).
        ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
        throw std::system_error(e, std::generic_category(), "gorun::signal_set: signalfd");
    }
}

signal_set::~signal_set() {
    if (fd_ >= 0)
        ::close(fd_);
}

task<io_result<int>> signal_set::wait(io_control ctl) const {
    signalfd_siginfo info{};
    int fd = fd_;
    for (;;) {
        int res = co_await uring::op(
            [&](io_uring_sqe* sqe) { io_uring_prep_read(sqe, fd, &info, sizeof info, 0); }, ctl);
        if (res == -EINTR || res == -EAGAIN)
            continue;
        if (res < 0)
            co_return std::error_code(-res, std::generic_category());
        co_return static_cast<int>(info.ssi_signo);
    }
}

}  // namespace gorun
