// gorun/net/tcp_stream.hpp — a TCP connection whose reads and writes suspend the task, not the
// thread.
//
//     auto c = co_await gorun::net::tcp_stream::connect(*gorun::net::address::parse("127.0.0.1:7"),
//                                                       gorun::clock::now() + 2s);
//     if (!c) co_return;                                   // c.error(): refused, timed out, ...
//     co_await c->write_all(std::as_bytes(std::span(msg)));
//     std::array<std::byte, 512> buf;
//     auto n = co_await c->read(buf);                      // 0: the peer closed its side
//
// Every call is one io_uring op on the worker running the task (connect, recv, send, shutdown,
// close) and returns an io_result. read/write move what the kernel takes in one op — short
// transfers are reported, not errors — and read_exact/write_all loop until done (IO-6). EINTR
// and EAGAIN are retried inside. Sends use MSG_NOSIGNAL: a peer reset is an EPIPE or
// ECONNRESET on this connection, never a SIGPIPE for the process.
//
// Deadlines (IO-7): every call takes an io_control (stop token and/or deadline). Like Go's
// SetReadDeadline/SetWriteDeadline, set_read_deadline/set_write_deadline give the connection
// absolute deadlines that every later read (write) call also obeys (the earlier of the two
// wins); a call cut short returns ETIMEDOUT (ECANCELED for a stop token) once the kernel has
// let go of its buffer (IO-1). A deadline applies to calls that start after it is set.
#pragma once

#include <gorun/io_control.hpp>
#include <gorun/io_result.hpp>
#include <gorun/net/address.hpp>
#include <gorun/task.hpp>
#include <gorun/time.hpp>

#include <cstddef>
#include <span>
#include <string_view>
#include <utility>

namespace gorun::net {

/// One TCP connection (owns its socket).
///
/// Suspends: the task<> calls do; the others do not. Thread-safety: one reader and one writer
/// may work concurrently (in two tasks); calls of the same direction must not overlap.
/// On shutdown: calls in flight are cancelled; the socket is closed by the destructor.
class tcp_stream {
public:
    tcp_stream() noexcept = default;
    /// Takes ownership of a connected TCP socket.
    explicit tcp_stream(int fd) noexcept
        : fd_(fd) {}
    tcp_stream(tcp_stream&& o) noexcept
        : fd_(std::exchange(o.fd_, -1))
        , read_deadline_(o.read_deadline_)
        , write_deadline_(o.write_deadline_) {}
    tcp_stream& operator=(tcp_stream&& o) noexcept;
    tcp_stream(const tcp_stream&) = delete;
    tcp_stream& operator=(const tcp_stream&) = delete;
    /// Shuts the socket down and closes it with close(2), which does not block for a socket
    /// (no SO_LINGER); pending calls of other tasks end (see close()).
    ~tcp_stream() { reset(); }

    /// Connects to `to`. Errors: ECONNREFUSED, ENETUNREACH, ETIMEDOUT (the deadline in `ctl`
    /// passed), ECANCELED, EMFILE (no fd left), ...
    [[nodiscard]] static task<io_result<tcp_stream>> connect(address to, io_control ctl = {});

    /// Reads what is there, up to buf.size() bytes, waiting for at least one; 0 means the peer
    /// closed its side (end of stream).
    [[nodiscard]] task<io_result<std::size_t>>
    read(std::span<std::byte> buf, io_control ctl = {}) const;
    [[nodiscard]] task<io_result<std::size_t>>
    read(std::span<char> buf, io_control ctl = {}) const {
        return read(std::as_writable_bytes(buf), std::move(ctl));
    }
    /// Reads exactly buf.size() bytes. Errors: the read's error, or ECONNRESET if the stream
    /// ended first (Go's io.ErrUnexpectedEOF); what arrived before stays in buf.
    [[nodiscard]] task<io_result<void>>
    read_exact(std::span<std::byte> buf, io_control ctl = {}) const;

    /// Writes up to data.size() bytes in one op; returns how many the kernel took.
    [[nodiscard]] task<io_result<std::size_t>>
    write(std::span<const std::byte> data, io_control ctl = {}) const;
    /// Writes all of `data`, looping over short writes. Errors: the first error (what was
    /// written before it is gone to the peer).
    [[nodiscard]] task<io_result<void>>
    write_all(std::span<const std::byte> data, io_control ctl = {}) const;
    [[nodiscard]] task<io_result<void>>
    write_all(std::string_view data, io_control ctl = {}) const {
        return write_all(std::as_bytes(std::span(data.data(), data.size())), std::move(ctl));
    }

    enum class direction { read, write, both };
    /// shutdown(2): no more reads, writes (the peer reads end of stream) or both.
    [[nodiscard]] task<io_result<void>> shutdown(direction how = direction::write) const;
    /// Closes the socket through the ring; closed afterwards either way. Like Go's Close, it
    /// ends calls that other tasks have pending on the stream: the socket is shut down first
    /// (SHUT_RDWR: a pending read returns 0, a pending write EPIPE), since an op in flight
    /// keeps the socket open in the kernel. The shutdown reaches every holder of the socket
    /// (a dup, a forked child): release() it to hand it on instead. The destructor and
    /// move-assignment do the same. A call made after close() began gets EBADF, or acts on
    /// whatever file reuses the number: stop making calls before closing.
    [[nodiscard]] task<io_result<void>> close();

    /// TCP_NODELAY on or off (Go sets it on by default; so does connect/accept here).
    io_result<void> set_nodelay(bool on) const noexcept;
    /// Absolute deadlines for later reads / writes (clock::time_point::max() clears one).
    void set_read_deadline(clock::time_point t) noexcept { read_deadline_ = t; }
    void set_write_deadline(clock::time_point t) noexcept { write_deadline_ = t; }
    void set_deadline(clock::time_point t) noexcept { read_deadline_ = write_deadline_ = t; }

    io_result<address> local_address() const noexcept;
    io_result<address> peer_address() const noexcept;

    bool is_open() const noexcept { return fd_ >= 0; }
    int fd() const noexcept { return fd_; }
    /// Gives up ownership of the socket.
    int release() noexcept { return std::exchange(fd_, -1); }

private:
    void reset() noexcept;
    io_control with_deadline(io_control ctl, clock::time_point d) const noexcept {
        if (d < ctl.deadline)
            ctl.deadline = d;
        return ctl;
    }

    int fd_ = -1;
    clock::time_point read_deadline_ = clock::time_point::max();
    clock::time_point write_deadline_ = clock::time_point::max();
};

}  // namespace gorun::net
