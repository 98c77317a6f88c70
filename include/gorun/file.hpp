// gorun/file.hpp — files through the worker's io_uring.
//
//     auto f = co_await gorun::file::open("data.bin");              // io_result<file>
//     if (!f) co_return;
//     std::array<std::byte, 4096> buf;
//     auto n = co_await f->read_at(buf, 0);                         // io_result<size_t>
//     co_await gorun::write_file("out.txt", "hello\n");
//     std::string s = (co_await gorun::read_file("out.txt")).value();
//
// Every call suspends the task while the kernel works (openat, read, write, readv, writev,
// fsync, statx and close are io_uring ops; none blocks a worker) and returns an io_result.
// Reads and writes at an offset are one op each and report short transfers (a read returns 0
// at end of file); write_all_at and read_file/write_file loop until done (IO-6). EINTR and
// EAGAIN are retried inside, never returned. Every call takes an optional io_control (stop
// token, deadline); a cancelled call returns ECANCELED or ETIMEDOUT once the kernel is done with
// its buffer (IO-1), and a cancelled open closes the fd it may have made.
#pragma once

#include <gorun/config.hpp>

#include <gorun/io_control.hpp>
#include <gorun/io_result.hpp>
#include <gorun/task.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace gorun {

/// One buffer of a vectored read or write; layout-compatible with `struct iovec`.
struct io_vec {
    void* base = nullptr;
    std::size_t len = 0;
};

/// What statx reports about a file (the common fields).
struct file_info {
    std::uint64_t size = 0;  ///< bytes
    std::uint32_t mode = 0;  ///< type and permission bits (st_mode)
    std::uint32_t nlink = 0;
    std::uint32_t uid = 0, gid = 0;
    std::uint64_t ino = 0;
    std::uint64_t blocks = 0;                               ///< 512-byte blocks allocated
    std::uint32_t blksize = 0;                              ///< preferred I/O size
    std::int64_t atime_ns = 0, mtime_ns = 0, ctime_ns = 0;  ///< since the epoch (realtime)

    bool is_regular() const noexcept { return (mode & 0170000) == 0100000; }
    bool is_directory() const noexcept { return (mode & 0170000) == 0040000; }
};

/// An open file descriptor, closed when the object goes (move-only).
///
/// Thread-safety: like an fd — concurrent calls from several tasks are allowed (positioned
/// I/O has no shared offset); closing while others use it is the caller's race.
class file {
public:
    file() noexcept = default;
    /// Takes ownership of `fd`.
    explicit file(int fd) noexcept
        : fd_(fd) {}
    file(file&& o) noexcept
        : fd_(std::exchange(o.fd_, -1)) {}
    file& operator=(file&& o) noexcept {
        if (this != &o) {
            reset();
            fd_ = std::exchange(o.fd_, -1);
        }
        return *this;
    }
    file(const file&) = delete;
    file& operator=(const file&) = delete;
    /// Closes the fd with close(2), which does not block for local files, pipes and sockets;
    /// use `co_await close()` to close through the ring and see its error.
    ~file() { reset(); }

    /// Opens `path` with open(2) `flags` (O_CLOEXEC is always added) and `perm` for a file
    /// O_CREAT makes. Suspends: yes. Errors: errno of openat (ENOENT, EACCES, ...).
    [[nodiscard]] static task<io_result<file>>
    open(std::string path, int flags, unsigned perm = 0666, io_control ctl = {});
    /// Opens `path` read-only (Go's os.Open).
    [[nodiscard]] static task<io_result<file>> open(std::string path, io_control ctl = {});
    /// Creates or truncates `path` for writing (Go's os.Create: read-write, perm 0666).
    [[nodiscard]] static task<io_result<file>> create(std::string path, io_control ctl = {});

    bool is_open() const noexcept { return fd_ >= 0; }
    int fd() const noexcept { return fd_; }
    /// Gives up ownership of the fd.
    int release() noexcept { return std::exchange(fd_, -1); }

    /// Reads up to buf.size() bytes at `offset`; returns how many (0 at end of file, fewer
    /// than asked is not an error). Suspends: yes.
    [[nodiscard]] task<io_result<std::size_t>>
    read_at(std::span<std::byte> buf, std::uint64_t offset, io_control ctl = {}) const;
    [[nodiscard]] task<io_result<std::size_t>>
    read_at(std::span<char> buf, std::uint64_t offset, io_control ctl = {}) const {
        return read_at(std::as_writable_bytes(buf), offset, std::move(ctl));
    }
    /// Writes up to data.size() bytes at `offset`; returns how many (may be fewer).
    [[nodiscard]] task<io_result<std::size_t>>
    write_at(std::span<const std::byte> data, std::uint64_t offset, io_control ctl = {}) const;
    [[nodiscard]] task<io_result<std::size_t>>
    write_at(std::string_view data, std::uint64_t offset, io_control ctl = {}) const {
        return write_at(std::as_bytes(std::span(data.data(), data.size())), offset, std::move(ctl));
    }
    /// Writes all of `data` at `offset` (looping over short writes). Errors: the first error;
    /// the bytes written before it stay written.
    [[nodiscard]] task<io_result<void>>
    write_all_at(std::span<const std::byte> data, std::uint64_t offset, io_control ctl = {}) const;
    /// Vectored read/write at `offset` (preadv2/pwritev2); one op, short transfers reported.
    /// The io_vec array must stay valid until the call returns.
    [[nodiscard]] task<io_result<std::size_t>>
    readv_at(std::span<const io_vec> bufs, std::uint64_t offset, io_control ctl = {}) const;
    [[nodiscard]] task<io_result<std::size_t>>
    writev_at(std::span<const io_vec> bufs, std::uint64_t offset, io_control ctl = {}) const;
    /// fsync(2), or fdatasync(2) when `data_only`.
    [[nodiscard]] task<io_result<void>> sync(bool data_only = false, io_control ctl = {}) const;
    /// statx(2) of the open file.
    [[nodiscard]] task<io_result<file_info>> stat(io_control ctl = {}) const;
    /// Closes the fd through the ring and reports close(2)'s error; the file is closed
    /// afterwards either way.
    [[nodiscard]] task<io_result<void>> close();

private:
    void reset() noexcept;
    int fd_ = -1;
};

/// statx(2) of `path` (following symlinks).
[[nodiscard]] task<io_result<file_info>> stat(std::string path, io_control ctl = {});

/// Reads the whole file at `path` (Go's os.ReadFile). Suspends: yes.
[[nodiscard]] task<io_result<std::string>> read_file(std::string path, io_control ctl = {});

/// Creates or truncates `path` and writes `data` to it (Go's os.WriteFile).
[[nodiscard]] task<io_result<void>>
write_file(std::string path, std::string data, unsigned perm = 0666, io_control ctl = {});

}  // namespace gorun
