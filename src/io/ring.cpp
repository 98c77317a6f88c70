// See ring.hpp.
#include "io/ring.hpp"

#include <gorun/detail/fatal.hpp>
#include <gorun/detail/io_op.hpp>

#include <fmt/format.h>

#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace gorun::detail {

namespace {

// Flag sets to try, best first. An EINVAL means "this kernel does not know a flag".
// SUBMIT_ALL (5.18) keeps submitting past an SQE that fails early, so one bad user SQE does not
// hold back the batch behind it.
constexpr unsigned flag_sets[] = {
    IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG
        | IORING_SETUP_SUBMIT_ALL,
    IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG | IORING_SETUP_SUBMIT_ALL,
    IORING_SETUP_COOP_TASKRUN,
    0,
};

int read_int_file(const char* path, int fallback) {
    std::FILE* f = std::fopen(path, "re");
    if (!f)
        return fallback;
    int v = fallback;
    if (std::fscanf(f, "%d", &v) != 1)
        v = fallback;
    std::fclose(f);
    return v;
}

}  // namespace

int ring::open(
    unsigned entries, unsigned extra_flags, unsigned sq_idle_ms, int attach_wq_fd) noexcept {
    int err = -EINVAL;
    if (attach_wq_fd >= 0)
        extra_flags |= IORING_SETUP_ATTACH_WQ;
    for (unsigned base : flag_sets) {
        unsigned flags = base | extra_flags;
        io_uring_params p{};
        p.flags = flags;
        p.sq_thread_idle = sq_idle_ms;
        if (attach_wq_fd >= 0)
            p.wq_fd = static_cast<unsigned>(attach_wq_fd);
        err = io_uring_queue_init_params(entries, &r_, &p);
        if (err == 0) {
            if (!(p.features & IORING_FEAT_NODROP)) {
                // Pre-5.5: completions could be dropped on overflow; IO-4 cannot be kept.
                io_uring_queue_exit(&r_);
                return -EINVAL;
            }
            flags_ = flags;
            skip_success_ = (p.features & IORING_FEAT_CQE_SKIP) != 0;
            break;
        }
        if (err != -EINVAL)
            return err;
    }
    if (err != 0)
        return err;
    open_ = true;
    ring_fd_ = r_.ring_fd;

    if (io_uring_probe* probe = io_uring_get_probe_ring(&r_)) {
        has_msg_ring_ = io_uring_opcode_supported(probe, IORING_OP_MSG_RING);
        io_uring_free_probe(probe);
    }
    // Saves the fd lookup on every enter; harmless to lack.
    (void)io_uring_register_ring_fd(&r_);

    event_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (event_fd_ < 0) {
        int e = -errno;
        close();
        return e;
    }
    arm_eventfd();
    int s = io_uring_submit(&r_);
    if (s < 0) {
        close();
        return s;
    }
    return 0;
}

void ring::close() noexcept {
    if (open_) {
        io_uring_queue_exit(&r_);
        open_ = false;
        ring_fd_ = -1;
    }
    if (event_fd_ >= 0) {
        ::close(event_fd_);
        event_fd_ = -1;
    }
}

const char* ring::mode() const noexcept {
    if (flags_ & IORING_SETUP_DEFER_TASKRUN)
        return "single-issuer+defer-taskrun";
    if (flags_ & IORING_SETUP_COOP_TASKRUN)
        return "coop-taskrun";
    return "plain";
}

std::string ring::dump_state() const {
    if (!open_)
        return "closed";
    unsigned kflags = IO_URING_READ_ONCE(*r_.sq.kflags);
    // Only the fields shared with the kernel, read atomically: the dump runs on another thread
    // (the watchdog, runtime::dump), and liburing's own sqe_tail is a plain field the owner
    // writes — reading it here is a data race (TSan). So SQEs prepared but not yet flushed to
    // the kernel do not show; flushed ones the kernel has not consumed do.
    unsigned sq_pending = IO_URING_READ_ONCE(*r_.sq.ktail) - IO_URING_READ_ONCE(*r_.sq.khead);
    unsigned cq_pending = IO_URING_READ_ONCE(*r_.cq.ktail) - IO_URING_READ_ONCE(*r_.cq.khead);
    return fmt::format(
        "sq unconsumed {} cq unreaped {}{}{} kernel-dropped {}",
        sq_pending,
        cq_pending,
        (kflags & IORING_SQ_CQ_OVERFLOW) ? " CQ_OVERFLOW" : "",
        (kflags & IORING_SQ_TASKRUN) ? " TASKRUN" : "",
        IO_URING_READ_ONCE(*r_.cq.koverflow));
}

io_uring_sqe* ring::get_sqe() noexcept {
    io_uring_sqe* sqe = io_uring_get_sqe(&r_);
    if (!sqe) {
        // SQ full: flush it and try again. The kernel (5.5+, NODROP) queues completions that
        // do not fit in the CQ, so a submit does not fail for lack of CQ space (IO-4).
        submit(false);
        sqe = io_uring_get_sqe(&r_);
    }
    return sqe;
}

int ring::get_sqes(io_uring_sqe** out, unsigned n) noexcept {
    if (n > r_.sq.ring_entries)
        return -EINVAL;
    if (io_uring_sq_space_left(&r_) < n) {
        submit(false);
        if (io_uring_sq_space_left(&r_) < n)
            return -EBUSY;
    }
    for (unsigned i = 0; i < n; ++i)
        out[i] = io_uring_get_sqe(&r_);  // cannot fail: the space was checked
    return 0;
}

int ring::submit(bool get_events) noexcept {
    for (int attempt = 0;; ++attempt) {
        unsigned before = io_uring_sq_ready(&r_);
        bump(enters_);
        int r = get_events ? io_uring_submit_and_get_events(&r_) : io_uring_submit(&r_);
        unsigned after = io_uring_sq_ready(&r_);
        if (before > after)
            bump(sqes_, before - after);
        if (r >= 0 || attempt >= 8)
            return r;
        if (r == -EINTR)
            continue;
        if (r != -EBUSY && r != -EAGAIN)
            return r;
        // The kernel wants completions consumed (or memory) before it takes more: reap, let
        // the kernel flush its overflow list into the CQ, then try again (IO-4).
        reap();
        bump(enters_);
        io_uring_get_events(&r_);
        reap();
    }
}

void ring::arm_eventfd() noexcept {
    io_uring_sqe* sqe = get_sqe();
    if (!sqe)
        return;
    io_uring_prep_read(sqe, event_fd_, &event_buf_, sizeof event_buf_, 0);
    io_uring_sqe_set_data64(sqe, tag_eventfd);
}

void ring::send_wake(int target_fd, int target_event_fd) noexcept {
    if (!has_msg_ring_) {
        wake_by_eventfd(target_event_fd);
        return;
    }
    io_uring_sqe* sqe = get_sqe();
    if (!sqe) {
        wake_by_eventfd(target_event_fd);
        return;
    }
    io_uring_prep_msg_ring(sqe, target_fd, 0, tag_wake, 0);
    io_uring_sqe_set_data64(sqe, tag_ignore);
    if (skip_success_)
        sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
    // Submitted at once: a wake is latency-critical and the target is asleep. Whatever other
    // SQEs are pending go with it.
    submit(false);
}

void ring::wake_by_eventfd(int event_fd) noexcept {
    std::uint64_t one = 1;
    // EAGAIN means the counter is already non-zero: a wake is pending anyway.
    while (::write(event_fd, &one, sizeof one) < 0 && errno == EINTR) {
    }
}

unsigned ring::reap() noexcept {
    // Completions are copied out and the CQ head advanced before any is dispatched: a
    // completion's handler may use the ring again (wake another worker, submit a cancel, flush
    // a full SQ) and must find the CQ consistent.
    struct entry {
        std::uint64_t data;
        std::int32_t res;
        std::uint32_t flags;
    };
    constexpr unsigned batch = 64;
    unsigned total = 0;
    for (;;) {
        entry got[batch];
        unsigned n = 0;
        io_uring_cqe* cqe;
        unsigned head;
        io_uring_for_each_cqe(&r_, head, cqe) {
            got[n++] = {io_uring_cqe_get_data64(cqe), cqe->res, cqe->flags};
            if (n == batch)
                break;
        }
        if (n == 0)
            break;
        io_uring_cq_advance(&r_, n);
        bump(cqes_, n);
        total += n;
        bool rearm = false;
        for (unsigned i = 0; i < n; ++i) {
            std::uint64_t tag = got[i].data;
            if (tag >= tag_limit && (tag & io_cancel_tag_bit))
                io_cancel_complete(
                    reinterpret_cast<io_cqe_slot*>(tag & ~std::uint64_t{io_cancel_tag_bit}),
                    got[i].res);
            else if (tag >= tag_limit)
                io_complete(reinterpret_cast<io_cqe_slot*>(tag), got[i].res, got[i].flags);
            else if (tag == tag_eventfd)
                rearm = true;  // the read consumed the counter; keep the doorbell armed
            // tag_wake / tag_ignore: the completion itself was the point (it ended a wait).
        }
        if (rearm)
            arm_eventfd();
        if (n < batch)
            break;
    }
    // IO-4: with NODROP the kernel only drops a CQE when it cannot even allocate the overflow
    // entry; an op would then never complete. Never silent.
    unsigned dropped = IO_URING_READ_ONCE(*r_.cq.koverflow);
    if (dropped != dropped_seen_) [[unlikely]]
        fatal("io_uring dropped completions (CQ overflow without NODROP memory); ops lost (IO-4)");
    return total;
}

unsigned ring::poll() noexcept {
    unsigned kflags = IO_URING_READ_ONCE(*r_.sq.kflags);
    if (kflags & IORING_SQ_CQ_OVERFLOW)
        bump(overflows_);
    if (io_uring_sq_ready(&r_) > 0) {
        submit(true);
    } else if (kflags & (IORING_SQ_TASKRUN | IORING_SQ_CQ_OVERFLOW)) {
        bump(enters_);
        io_uring_get_events(&r_);
    }
    unsigned n = reap();
    // A reap may have made room for an overflow backlog: flush it now rather than on the next
    // pass, so completions do not wait behind the flag.
    if (IO_URING_READ_ONCE(*r_.sq.kflags) & IORING_SQ_CQ_OVERFLOW) {
        bump(overflows_);
        bump(enters_);
        io_uring_get_events(&r_);
        n += reap();
    }
    return n;
}

unsigned ring::wait(std::int64_t timeout_ns) noexcept {
    io_uring_cqe* cqe = nullptr;
    __kernel_timespec ts{};
    __kernel_timespec* tsp = nullptr;
    if (timeout_ns >= 0) {
        ts.tv_sec = timeout_ns / 1'000'000'000;
        ts.tv_nsec = timeout_ns % 1'000'000'000;
        tsp = &ts;
    }
    if (IO_URING_READ_ONCE(*r_.sq.kflags) & IORING_SQ_CQ_OVERFLOW)
        bump(overflows_);
    unsigned before = io_uring_sq_ready(&r_);
    // liburing returns a completion that is already there without entering the kernel.
    if (before > 0 || io_uring_cq_ready(&r_) == 0)
        bump(enters_);
    // -ETIME (timer due) and -EINTR (a signal) both just end the wait.
    (void)io_uring_submit_and_wait_timeout(&r_, &cqe, 1, tsp, nullptr);
    unsigned after = io_uring_sq_ready(&r_);
    if (before > after)
        bump(sqes_, before - after);
    return reap();
}

std::string describe_setup_error(int neg_errno, unsigned entries) {
    int e = -neg_errno;
    switch (e) {
        case EPERM: {
            int disabled = read_int_file("/proc/sys/kernel/io_uring_disabled", 0);
            if (disabled == 2)
                return "gorun: io_uring is disabled on this machine (sysctl "
                       "kernel.io_uring_disabled=2); enable it with "
                       "`sysctl -w kernel.io_uring_disabled=0`";
            if (disabled == 1 && geteuid() != 0)
                return "gorun: io_uring is restricted by sysctl kernel.io_uring_disabled=1 and "
                       "this process is neither privileged nor in kernel.io_uring_group; add the "
                       "user to that group or set `sysctl -w kernel.io_uring_disabled=0`";
            return "gorun: io_uring_setup was denied (EPERM), most likely by a seccomp filter "
                   "(Docker's and Podman's default profiles block io_uring); run with a seccomp "
                   "profile that allows io_uring_setup, io_uring_enter and io_uring_register "
                   "(e.g. `docker run --security-opt seccomp=<profile.json>`)";
        }
        case ENOSYS:
            return "gorun: io_uring is not available (ENOSYS): the kernel lacks it "
                   "(CONFIG_IO_URING, Linux 5.19+ recommended) or a seccomp filter hides it; "
                   "use a kernel with io_uring or allow io_uring_setup/enter/register";
        case ENOMEM: {
            rlimit rl{};
            getrlimit(RLIMIT_MEMLOCK, &rl);
            return fmt::format(
                "gorun: io_uring_setup failed with ENOMEM for a {}-entry ring: the locked-memory "
                "limit (RLIMIT_MEMLOCK, now {} KiB) is too small or memory is exhausted; raise it "
                "(`ulimit -l`, LimitMEMLOCK= in systemd, --ulimit memlock= in Docker) or lower "
                "runtime_options::ring_entries",
                entries,
                rl.rlim_cur == RLIM_INFINITY ? -1 : static_cast<long long>(rl.rlim_cur / 1024));
        }
        case EMFILE:
        case ENFILE:
            return fmt::format(
                "gorun: out of file descriptors while creating the io_uring ({}); raise "
                "RLIMIT_NOFILE (`ulimit -n`) or close descriptors",
                std::strerror(e));
        case EINVAL:
            return fmt::format(
                "gorun: io_uring_setup rejected a {}-entry ring (EINVAL): the kernel accepts 1 to "
                "32768 entries (runtime_options::ring_entries) and needs Linux 5.19+ for gorun's "
                "set-up flags",
                entries);
        default:
            return fmt::format("gorun: io_uring set-up failed ({})", std::strerror(e));
    }
}

}  // namespace gorun::detail
