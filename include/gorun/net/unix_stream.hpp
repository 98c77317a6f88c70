// gorun/net/unix_stream.hpp — a Unix-domain stream connection (AF_UNIX, SOCK_STREAM) whose
// reads and writes suspend the task, not the thread.
//
//     auto c = co_await gorun::net::unix_stream::connect("/run/app.sock", gorun::clock::now() +
//     2s); if (!c) co_return;                                   // ENOENT, ECONNREFUSED,
//     ETIMEDOUT... co_await c->write_all("ping"); std::array<std::byte, 512> buf; auto n = co_await
//     c->read(buf);                      // 0: the peer closed its side
//
// A socket name is a filesystem path, or, when it starts with '@', a name in Linux's abstract
// namespace ("@app" is "\0app" to the kernel: no file, gone with the last socket bound to it).
// It must fit sockaddr_un: at most 107 bytes for a path, 107 after the '@' for an abstract
// name (ENAMETOOLONG otherwise).
//
// Everything else is tcp_stream's behaviour (the two share their loops): read/write move what
// the kernel takes in one op and report short transfers; read_exact/write_all loop (IO-6);
// EINTR/EAGAIN are retried inside; sends use MSG_NOSIGNAL, so a vanished peer is EPIPE or
// ECONNRESET here, never a SIGPIPE. Every call takes an io_control, and set_read_deadline/
// set_write_deadline give Go-style connection deadlines (IO-7): the earlier one wins; a call
// cut short returns ETIMEDOUT (ECANCELED for a stop) once the kernel has let go of its buffer
// (IO-1).
#pragma once

#include <gorun/io_control.hpp>
#include <gorun/io_result.hpp>
#include <gorun/task.hpp>
#include <gorun/time.hpp>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace gorun::net {

/// One Unix-domain stream connection (owns its socket).
///
/// Suspends: the task<> calls do; the others do not. Thread-safety: one reader and one writer
/// may work concurrently (in two tasks); calls of the same direction must not overlap.
/// On shutdown: calls in flight are cancelled; the socket is closed by the destructor.
class unix_stream {
public:
    unix_stream() noexcept = default;
    /// Takes ownership of a connected AF_UNIX stream socket.
    explicit unix_stream(int fd) noexcept
        : fd_(fd) {}
    unix_stream(unix_stream&& o) noexcept
        : fd_(std::exchange(o.fd_, -1))
        , read_deadline_(o.read_deadline_)
        , write_deadline_(o.write_deadline_) {}
    unix_stream& operator=(unix_stream&& o) noexcept;
    unix_stream(const unix_stream&) = delete;
    unix_stream& operator=(const unix_stream&) = delete;
    /// Shuts the socket down and closes it with close(2) (immediate for a socket); pending
    /// calls of other tasks end (see close()).
    ~unix_stream() { reset(); }

    /// Connects to the socket named `path` (a path, or "@name" for the abstract namespace).
    /// Errors: ENOENT (no such file), ECONNREFUSED (nobody listens there), ENAMETOOLONG,
    /// EINVAL (empty name), ETIMEDOUT/ECANCELED per `ctl`, EMFILE, ...
    [[nodiscard]] static task<io_result<unix_stream>>
    connect(std::string path, io_control ctl = {});
    /// Two connected streams (socketpair(2)). Suspends: no. Errors: EMFILE, ENFILE.
    static io_result<std::pair<unix_stream, unix_stream>> pair() noexcept;

    /// Reads what is there, up to buf.size() bytes, waiting for at least one; 0 means the peer
    /// closed its side (end of stream).
    [[nodiscard]] task<io_result<std::size_t>>
    read(std::span<std::byte> buf, io_control ctl = {}) const;
    [[nodiscard]] task<io_result<std::size_t>>
    read(std::span<char> buf, io_control ctl = {}) const {
        return read(std::as_writable_bytes(buf), std::move(ctl));
    }
    /// Reads exactly buf.size() bytes. Errors: the read's error, or ECONNRESET if the stream
    /// ended first; what arrived before stays in buf.
    [[nodiscard]] task<io_result<void>>
    read_exact(std::span<std::byte> buf, io_control ctl = {}) const;

    /// Writes up to data.size() bytes in one op; returns how many the kernel took.
    [[nodiscard]] task<io_result<std::size_t>>
    write(std::span<const std::byte> data, io_control ctl = {}) const;
    /// Writes all of `data`, looping over short writes. Errors: the first error.
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

    /// Absolute deadlines for later reads / writes (clock::time_point::max() clears one).
    void set_read_deadline(clock::time_point t) noexcept { read_deadline_ = t; }
    void set_write_deadline(clock::time_point t) noexcept { write_deadline_ = t; }
    void set_deadline(clock::time_point t) noexcept { read_deadline_ = write_deadline_ = t; }

    /// The name this end is bound to ("" when unnamed, as a connecting socket is; "@name" for
    /// an abstract one). Suspends: no.
    io_result<std::string> local_path() const;
    /// The name of the socket the peer is bound to (a listener's path for a client).
    io_result<std::string> peer_path() const;

    bool is_open() const noexcept { return fd_ >= 0; }
    int fd() const noexcept { return fd_; }
    /// Gives up ownership of the socket.
    int release() noexcept { return std::exchange(fd_, -1); }

private:
    void reset() noexcept;

    int fd_ = -1;
    clock::time_point read_deadline_ = clock::time_point::max();
    clock::time_point write_deadline_ = clock::time_point::max();
};

}  // namespace gorun::net
