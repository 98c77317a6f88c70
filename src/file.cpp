// Files through the worker's ring (file.hpp). Each call is a coroutine around uring ops that
// retries EINTR, and waits for readiness and retries on EAGAIN (a file opened O_NONBLOCK),
// so neither reaches the user (IO-6).
#include <gorun/file.hpp>
#include <gorun/uring.hpp>

#include "io/op_len.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <utility>

namespace gorun {

static_assert(
    sizeof(io_vec) == sizeof(iovec) && alignof(io_vec) == alignof(iovec)
        && offsetof(io_vec, base) == offsetof(iovec, iov_base)
        && offsetof(io_vec, len) == offsetof(iovec, iov_len),
    "io_vec must be layout-compatible with struct iovec");

namespace {

// Runs `prep` as one op until it returns something other than EINTR / EAGAIN. `events` is
// what to wait for on EAGAIN (POLLIN for reads, POLLOUT for writes, 0: just retry).
template <class Prep>
task<int> retrying(Prep prep, io_control ctl, int fd, unsigned events) {
    for (;;) {
        int r = co_await uring::op(prep, ctl);
        if (r == -EINTR)
            continue;
        if (r == -EAGAIN && events) {
            int p = co_await uring::op(
                [&](io_uring_sqe* sqe) { io_uring_prep_poll_add(sqe, fd, events); }, ctl);
            if (p < 0 && p != -EINTR)
                co_return p;
            continue;
        }
        co_return r;
    }
}

task<io_result<file>> open_impl(std::string path, int flags, unsigned perm, io_control ctl) {
    for (;;) {
        int r = co_await uring::op_returning_fd(
            [&](io_uring_sqe* sqe) {
                io_uring_prep_openat(sqe, AT_FDCWD, path.c_str(), flags | O_CLOEXEC, perm);
            },
            ctl);
        if (r == -EINTR)
            continue;
        if (r < 0)
            co_return std::error_code(-r, std::generic_category());
        co_return file(r);
    }
}

file_info to_info(const struct statx& st) noexcept {
    auto ns = [](const statx_timestamp& t) {
        return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
    };
    file_info fi;
    fi.size = st.stx_size;
    fi.mode = st.stx_mode;
    fi.nlink = st.stx_nlink;
    fi.uid = st.stx_uid;
    fi.gid = st.stx_gid;
    fi.ino = st.stx_ino;
    fi.blocks = st.stx_blocks;
    fi.blksize = st.stx_blksize;
    fi.atime_ns = ns(st.stx_atime);
    fi.mtime_ns = ns(st.stx_mtime);
    fi.ctime_ns = ns(st.stx_ctime);
    return fi;
}

task<io_result<file_info>> statx_impl(int dirfd, std::string path, int flags, io_control ctl) {
    struct statx st {};
    int r = co_await retrying(
        [&](io_uring_sqe* sqe) {
            io_uring_prep_statx(sqe, dirfd, path.c_str(), flags, STATX_BASIC_STATS, &st);
        },
        ctl,
        -1,
        0);
    if (r < 0)
        co_return std::error_code(-r, std::generic_category());
    co_return to_info(st);
}

}  // namespace

task<io_result<file>> file::open(std::string path, int flags, unsigned perm, io_control ctl) {
    return open_impl(std::move(path), flags, perm, std::move(ctl));
}

task<io_result<file>> file::open(std::string path, io_control ctl) {
    return open_impl(std::move(path), O_RDONLY, 0, std::move(ctl));
}

task<io_result<file>> file::create(std::string path, io_control ctl) {
    return open_impl(std::move(path), O_RDWR | O_CREAT | O_TRUNC, 0666, std::move(ctl));
}

void file::reset() noexcept {
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
}

task<io_result<std::size_t>>
file::read_at(std::span<std::byte> buf, std::uint64_t offset, io_control ctl) const {
    int fd = fd_;
    int r = co_await retrying(
        [&](io_uring_sqe* sqe) {
            io_uring_prep_read(sqe, fd, buf.data(), detail::op_len(buf.size()), offset);
        },
        std::move(ctl),
        fd,
        POLLIN);
    co_return io_result<std::size_t>::from_res(r);
}

task<io_result<std::size_t>>
file::write_at(std::span<const std::byte> data, std::uint64_t offset, io_control ctl) const {
    int fd = fd_;
    int r = co_await retrying(
        [&](io_uring_sqe* sqe) {
            io_uring_prep_write(sqe, fd, data.data(), detail::op_len(data.size()), offset);
        },
        std::move(ctl),
        fd,
        POLLOUT);
    co_return io_result<std::size_t>::from_res(r);
}

task<io_result<void>>
file::write_all_at(std::span<const std::byte> data, std::uint64_t offset, io_control ctl) const {
    while (!data.empty()) {
        // One op moves at most 2 GiB - 4 KiB (MAX_RW_COUNT); ask for no more than 1 GiB.
        auto chunk = data.first(std::min<std::size_t>(data.size(), std::size_t{1} << 30));
        auto n = co_await write_at(chunk, offset, ctl);
        if (!n)
            co_return n.error();
        if (*n == 0)
            co_return std::make_error_code(std::errc::io_error);  // no progress: give up
        data = data.subspan(*n);
        offset += *n;
    }
    co_return io_result<void>{};
}

namespace {

// readv_at and writev_at: one vectored SQE at `offset`, retried like the others.
using prep_vectored = void (*)(io_uring_sqe*, int, const iovec*, unsigned, __u64);

task<io_result<std::size_t>> vectored(
    prep_vectored prep,
    int fd,
    std::span<const io_vec> bufs,
    std::uint64_t offset,
    io_control ctl,
    unsigned events) {
    int r = co_await retrying(
        [&](io_uring_sqe* sqe) {
            prep(
                sqe,
                fd,
                reinterpret_cast<const iovec*>(bufs.data()),
                static_cast<unsigned>(bufs.size()),
                offset);
        },
        std::move(ctl),
        fd,
        events);
    co_return io_result<std::size_t>::from_res(r);
}

}  // namespace

task<io_result<std::size_t>>
file::readv_at(std::span<const io_vec> bufs, std::uint64_t offset, io_control ctl) const {
    return vectored(io_uring_prep_readv, fd_, bufs, offset, std::move(ctl), POLLIN);
}

task<io_result<std::size_t>>
file::writev_at(std::span<const io_vec> bufs, std::uint64_t offset, io_control ctl) const {
    return vectored(io_uring_prep_writev, fd_, bufs, offset, std::move(ctl), POLLOUT);
}

task<io_result<void>> file::sync(bool data_only, io_control ctl) const {
    int fd = fd_;
    int r = co_await retrying(
        [&](io_uring_sqe* sqe) {
            io_uring_prep_fsync(sqe, fd, data_only ? IORING_FSYNC_DATASYNC : 0);
        },
        std::move(ctl),
        fd,
        0);
    co_return io_result<void>::from_res(r);
}

task<io_result<file_info>> file::stat(io_control ctl) const {
    return statx_impl(fd_, std::string(), AT_EMPTY_PATH, std::move(ctl));
}

task<io_result<void>> file::close() {
    int fd = std::exchange(fd_, -1);
    if (fd < 0)
        co_return std::make_error_code(std::errc::bad_file_descriptor);
    // Not retried on EINTR: the fd is gone either way on Linux (close(2)).
    int r = co_await uring::op([&](io_uring_sqe* sqe) { io_uring_prep_close(sqe, fd); });
    co_return io_result<void>::from_res(r);
}

task<io_result<file_info>> stat(std::string path, io_control ctl) {
    return statx_impl(AT_FDCWD, std::move(path), 0, std::move(ctl));
}

task<io_result<std::string>> read_file(std::string path, io_control ctl) {
    auto f = co_await file::open(std::move(path), ctl);
    if (!f)
        co_return f.error();
    std::string out;
    // The size is a hint (procfs files report 0, files grow): read until a read returns 0.
    if (auto st = co_await f->stat(ctl); st && st->size > 0)
        out.reserve(static_cast<std::size_t>(st->size) + 1);
    std::size_t len = 0;
    for (;;) {
        if (out.size() - len < 4096)
            out.resize(std::max<std::size_t>(out.capacity(), len + 4096));
        auto n = co_await f->read_at(std::span<char>(out.data() + len, out.size() - len), len, ctl);
        if (!n)
            co_return n.error();
        if (*n == 0)
            break;
        len += *n;
    }
    out.resize(len);
    co_return out;
}

task<io_result<void>>
write_file(std::string path, std::string data, unsigned perm, io_control ctl) {
    auto f = co_await file::open(std::move(path), O_WRONLY | O_CREAT | O_TRUNC, perm, ctl);
    if (!f)
        co_return f.error();
    auto w = co_await f->write_all_at(std::as_bytes(std::span(data.data(), data.size())), 0, ctl);
    if (!w)
        co_return w.error();
    co_return co_await f->close();
}

}  // namespace gorun
