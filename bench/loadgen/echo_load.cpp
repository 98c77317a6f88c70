// echo_load: a closed-loop load generator for TCP echo servers, neutral ground for comparing
// gorun's samples/echo_server with its Go and Asio peers. Plain epoll and POSIX sockets; it uses
// nothing of gorun.
//
// Each of --connections connections sends one message of --size random bytes, waits until the
// whole message has come back, checks every byte, and sends the next one (a new random message
// each time). Connections are spread round robin over --threads threads, each with its own epoll
// set. After --warmup (default 1 s) it measures for --duration (default 5 s): requests completed
// in the window, their latency (send of the first byte to receipt of the last), and, given
// --server-pid, the server's CPU time (utime + stime of the whole process from /proc/PID/stat,
// which includes its exited threads and io_uring workers) over the same window.
//
// Output, one `name value unit` line each (as bench/compare.sh reads them):
//   echo_rps                 requests per second in the window          req/s
//   echo_p50_us, _p99_us     latency percentiles (nearest rank)          us
//   echo_requests            requests completed in the window            req
//   server_cpu_us_per_req    server CPU time in the window / requests    us/req (--server-pid)
//   server_syscalls_per_req  server syscalls in the window / requests    syscalls/req
//                            (--count-syscalls: runs perf, see syscall_counter)
//   loadgen_cpu_us_per_req   this process's CPU time in the window / req us/req
// Exit status: 0; 1 on a byte mismatch, an early EOF, a connection error or a server that exited;
// 2 on bad usage.
//
// Design notes: level-triggered epoll; a message is written with one send() when the socket
// buffer takes it (always, at 64 B) and otherwise finished on EPOLLOUT while the echo is read
// concurrently (a large message would deadlock a loop that wrote all before reading). Latencies
// are kept per thread as nanoseconds and sorted once at the end. Requests completing before the
// window opens or after it closes are not counted: the main thread opens and closes the window
// by storing a phase word that the workers read once per completed request.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

[[noreturn]] void usage_error(const std::string& msg) {
    std::fprintf(
        stderr,
        "echo_load: %s\n"
        "usage: echo_load --port P [--host 127.0.0.1] [--connections 64] [--size 64]\n"
        "                 [--duration 5s] [--warmup 1s] [--threads 1] [--server-pid PID]\n"
        "                 [--count-syscalls]\n",
        msg.c_str());
    std::exit(2);
}

std::uint64_t
parse_u64(std::string_view flag, std::string_view s, std::uint64_t min, std::uint64_t max) {
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || p != s.data() + s.size() || v < min || v > max)
        usage_error(
            std::string(flag) + " wants an integer in " + std::to_string(min) + ".."
            + std::to_string(max) + ", got '" + std::string(s) + "'");
    return v;
}

// "5s", "500ms", "1.5s", "2m", or a bare number of seconds.
std::chrono::nanoseconds parse_duration(std::string_view flag, std::string_view s) {
    double scale = 1e9;
    std::string_view num = s;
    auto ends = [&](std::string_view suf) {
        return num.size() > suf.size() && num.substr(num.size() - suf.size()) == suf;
    };
    if (ends("ms")) {
        scale = 1e6;
        num.remove_suffix(2);
    } else if (ends("us")) {
        scale = 1e3;
        num.remove_suffix(2);
    } else if (ends("s")) {
        num.remove_suffix(1);
    } else if (ends("m")) {
        scale = 60e9;
        num.remove_suffix(1);
    }
    char* end = nullptr;
    std::string tmp(num);
    double v = std::strtod(tmp.c_str(), &end);
    if (tmp.empty() || end != tmp.c_str() + tmp.size() || !(v >= 0) || v > 86400)
        usage_error(
            std::string(flag) + " wants a duration such as 5s or 500ms, got '" + std::string(s)
            + "'");
    return std::chrono::nanoseconds(static_cast<std::int64_t>(v * scale));
}

struct options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;
    unsigned connections = 64;
    std::size_t size = 64;
    std::chrono::nanoseconds duration = std::chrono::seconds(5);
    std::chrono::nanoseconds warmup = std::chrono::seconds(1);
    unsigned threads = 1;
    long server_pid = 0;
    bool count_syscalls = false;
};

options parse_args(int argc, char** argv) {
    options o;
    bool have_port = false;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        std::string_view v;
        auto eq = a.find('=');
        std::string_view flag = a.substr(0, eq);
        if (flag == "-h" || flag == "--help")
            usage_error("help");
        if (flag == "--count-syscalls") {
            o.count_syscalls = true;
            continue;
        }
        if (eq != std::string_view::npos) {
            v = a.substr(eq + 1);
        } else {
            if (i + 1 >= argc)
                usage_error(std::string(flag) + " needs a value");
            v = argv[++i];
        }
        if (flag == "--host") {
            o.host = std::string(v);
        } else if (flag == "--port") {
            o.port = static_cast<std::uint16_t>(parse_u64(flag, v, 1, 65535));
            have_port = true;
        } else if (flag == "--connections") {
            o.connections = static_cast<unsigned>(parse_u64(flag, v, 1, 100000));
        } else if (flag == "--size") {
            o.size = parse_u64(flag, v, 1, std::size_t{1} << 30);
        } else if (flag == "--duration") {
            o.duration = parse_duration(flag, v);
            if (o.duration.count() == 0)
                usage_error("--duration must be more than 0");
        } else if (flag == "--warmup") {
            o.warmup = parse_duration(flag, v);
        } else if (flag == "--threads") {
            o.threads = static_cast<unsigned>(parse_u64(flag, v, 1, 1024));
        } else if (flag == "--server-pid") {
            o.server_pid = static_cast<long>(parse_u64(flag, v, 1, 1u << 30));
        } else {
            usage_error("unknown option '" + std::string(a) + "'");
        }
    }
    if (!have_port)
        usage_error("--port is required");
    if (o.count_syscalls && o.server_pid == 0)
        usage_error("--count-syscalls needs --server-pid");
    o.threads = std::min(o.threads, o.connections);
    return o;
}

// Phase word: workers count a completed request only while it reads `measuring`. The main thread
// stores it (seq_cst); workers read it relaxed: nothing else is published through it, and a
// worker that sees a change one request late moves a window edge by one request of the tens of
// thousands per connection in a run. fail() stores `done` too.
enum phase : int { warming = 0, measuring = 1, done = 2 };
std::atomic<int> g_phase{warming};

std::mutex g_error_mu;
std::string g_error;  // first error; guarded by g_error_mu
std::atomic<bool> g_failed{false};

void fail(std::string msg) {
    {
        std::lock_guard lk(g_error_mu);
        if (g_error.empty())
            g_error = std::move(msg);
    }
    g_failed.store(true);
    g_phase.store(done);
}

std::string errno_text(int e) {
    return std::strerror(e);
}

struct xorshift {
    std::uint64_t s;
    std::uint64_t next() {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        return s;
    }
    void fill(unsigned char* p, std::size_t n) {
        while (n >= 8) {
            std::uint64_t v = next();
            std::memcpy(p, &v, 8);
            p += 8;
            n -= 8;
        }
        if (n > 0) {
            std::uint64_t v = next();
            std::memcpy(p, &v, n);
        }
    }
};

struct connection {
    int fd = -1;
    unsigned id = 0;
    std::unique_ptr<unsigned char[]> sent;  // the message in flight
    std::unique_ptr<unsigned char[]> got;   // what has come back of it
    std::size_t written = 0;
    std::size_t received = 0;
    bool want_out = false;  // EPOLLOUT registered
    std::uint64_t requests = 0;
    clock_type::time_point started;
};

struct worker_result {
    std::uint64_t requests = 0;  // completed in the window
    std::vector<std::uint32_t> latencies_ns;
};

class worker {
public:
    worker(const options& o, std::vector<connection*> conns, unsigned seed)
        : o_(o)
        , conns_(std::move(conns))
        , rng_{0x9e3779b97f4a7c15ull * (seed + 1)} {}

    void run() {
        ep_ = epoll_create1(EPOLL_CLOEXEC);
        if (ep_ < 0)
            return fail("epoll_create1: " + errno_text(errno));
        for (connection* c : conns_) {
            epoll_event ev{};
            ev.events = EPOLLIN;
            ev.data.ptr = c;
            if (epoll_ctl(ep_, EPOLL_CTL_ADD, c->fd, &ev) != 0)
                return fail("epoll_ctl: " + errno_text(errno));
        }
        result_.latencies_ns.reserve(1 << 20);
        for (connection* c : conns_)
            if (!start(*c))
                return;
        std::vector<epoll_event> evs(256);
        while (g_phase.load(std::memory_order_relaxed) != done) {
            int n = epoll_wait(ep_, evs.data(), static_cast<int>(evs.size()), 100);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                return fail("epoll_wait: " + errno_text(errno));
            }
            for (int i = 0; i < n; ++i) {
                auto* c = static_cast<connection*>(evs[i].data.ptr);
                if ((evs[i].events & EPOLLOUT) && c->written < o_.size && !send_more(*c))
                    return;
                if ((evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) && !receive(*c))
                    return;
            }
        }
    }

    ~worker() {
        if (ep_ >= 0)
            close(ep_);
    }

    worker_result& result() { return result_; }

private:
    bool start(connection& c) {
        rng_.fill(c.sent.get(), o_.size);
        c.written = 0;
        c.received = 0;
        c.started = clock_type::now();
        return send_more(c);
    }

    bool send_more(connection& c) {
        while (c.written < o_.size) {
            ssize_t n = send(c.fd, c.sent.get() + c.written, o_.size - c.written, MSG_NOSIGNAL);
            if (n > 0) {
                c.written += static_cast<std::size_t>(n);
                continue;
            }
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                return want_out(c, true);
            fail("connection " + std::to_string(c.id) + ": send: " + errno_text(errno));
            return false;
        }
        return want_out(c, false);
    }

    bool want_out(connection& c, bool on) {
        if (c.want_out == on)
            return true;
        epoll_event ev{};
        ev.events = EPOLLIN | (on ? EPOLLOUT : 0u);
        ev.data.ptr = &c;
        if (epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev) != 0) {
            fail("epoll_ctl: " + errno_text(errno));
            return false;
        }
        c.want_out = on;
        return true;
    }

    bool receive(connection& c) {
        // Read only up to the end of the message in flight: anything more would be bytes the
        // server made up, and shows up as a mismatch in the next message.
        for (;;) {
            if (c.received >= c.written) {
                // Nothing of ours is in flight beyond what came back: the server sent extra.
                char extra;
                ssize_t n = recv(c.fd, &extra, 1, MSG_DONTWAIT);
                if (n > 0) {
                    fail(
                        "connection " + std::to_string(c.id) + ": the server sent "
                        + "more bytes than it was sent (request " + std::to_string(c.requests)
                        + ")");
                    return false;
                }
                if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
                    return eof_or_error(c, n);
                return true;
            }
            ssize_t n = recv(c.fd, c.got.get() + c.received, c.written - c.received, 0);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                return true;
            if (n <= 0)
                return eof_or_error(c, n);
            std::size_t from = c.received;
            c.received += static_cast<std::size_t>(n);
            if (std::memcmp(c.got.get() + from, c.sent.get() + from, c.received - from) != 0) {
                std::size_t at = from;
                while (c.got[at] == c.sent[at])
                    ++at;
                char buf[160];
                std::snprintf(
                    buf,
                    sizeof buf,
                    "connection %u: byte %zu of request %" PRIu64
                    " came back as 0x%02x, sent 0x%02x",
                    c.id,
                    at,
                    c.requests,
                    c.got[at],
                    c.sent[at]);
                fail(buf);
                return false;
            }
            if (c.received == o_.size) {
                auto now = clock_type::now();
                ++c.requests;
                if (g_phase.load(std::memory_order_relaxed) == measuring) {
                    ++result_.requests;
                    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now - c.started)
                                  .count();
                    result_.latencies_ns.push_back(
                        static_cast<std::uint32_t>(std::min<std::int64_t>(ns, UINT32_MAX)));
                }
                return start(c);
            }
        }
    }

    bool eof_or_error(connection& c, ssize_t n) {
        if (g_phase.load() == done)
            return true;  // shutting down anyway
        if (n == 0)
            fail(
                "connection " + std::to_string(c.id) + ": the server closed it (EOF) after "
                + std::to_string(c.received) + " of " + std::to_string(o_.size)
                + " bytes of request " + std::to_string(c.requests));
        else
            fail("connection " + std::to_string(c.id) + ": recv: " + errno_text(errno));
        return false;
    }

    const options& o_;
    std::vector<connection*> conns_;
    xorshift rng_;
    int ep_ = -1;
    worker_result result_;
};

// utime + stime of a process, in seconds; nullopt when it is gone.
std::optional<double> process_cpu_seconds(long pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string s;
    if (!f || !std::getline(f, s))
        return std::nullopt;
    // The command name (field 2) may hold spaces and parentheses: fields 3.. follow the last ')'.
    auto close = s.rfind(')');
    if (close == std::string::npos)
        return std::nullopt;
    std::istringstream in(s.substr(close + 1));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && in >> field; ++i) {
        if (i == 14)
            utime = std::stoull(field);
        if (i == 15)
            stime = std::stoull(field);
    }
    if (!in)
        return std::nullopt;
    return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double self_cpu_seconds() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    auto tv = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6;
    };
    return tv(ru.ru_utime) + tv(ru.ru_stime);
}

// Counts the server's system calls over the measured window with
//   perf stat -D -1 --control fd:3,4 -e raw_syscalls:sys_enter -x, -p PID -o FILE
// started before the connections are made (attaching takes a while) with its counter disabled,
// enabled when the window opens and disabled when it closes; each command waits for perf's
// "ack". perf -p follows every thread of the process, including threads it starts later.
// The tracepoint slows every system call on the machine a little while enabled, so
// bench/net_compare.sh counts in a run of its own, not in the one that measures time.
class syscall_counter {
public:
    // Returns an empty message on success.
    std::string start(long pid) {
        char tmpl[] = "/tmp/echo_load_perf.XXXXXX";
        int out = mkstemp(tmpl);
        if (out < 0)
            return "mkstemp: " + errno_text(errno);
        close(out);
        out_path_ = tmpl;
        int ctl[2], ack[2];
        if (pipe2(ctl, O_CLOEXEC) != 0 || pipe2(ack, O_CLOEXEC) != 0)
            return "pipe2: " + errno_text(errno);
        std::string pid_s = std::to_string(pid);
        pid_ = fork();
        if (pid_ < 0)
            return "fork: " + errno_text(errno);
        if (pid_ == 0) {
            // Move both ends above 4 first (either may be 3 or 4 already), then onto 3 and 4;
            // dup2 and F_DUPFD leave FD_CLOEXEC clear on the copies. perf gets SIGINT if we die.
            int c = fcntl(ctl[0], F_DUPFD, 10);
            int a = fcntl(ack[1], F_DUPFD, 10);
            if (c < 0 || a < 0 || dup2(c, 3) < 0 || dup2(a, 4) < 0)
                _exit(127);
            prctl(PR_SET_PDEATHSIG, SIGINT);
            // Quiet ("Events enabled" on each command); a failure shows as a missing ack.
            int devnull = open("/dev/null", O_RDWR);
            if (devnull >= 0) {
                dup2(devnull, 0);
                dup2(devnull, 1);
                dup2(devnull, 2);
            }
            execlp(
                "perf",
                "perf",
                "stat",
                "-D",
                "-1",
                "--control",
                "fd:3,4",
                "-e",
                "raw_syscalls:sys_enter",
                "-x",
                ",",
                "-p",
                pid_s.c_str(),
                "-o",
                tmpl,
                static_cast<char*>(nullptr));
            _exit(127);
        }
        close(ctl[0]);
        close(ack[1]);
        ctl_ = ctl[1];
        ack_ = ack[0];
        return {};
    }

    std::string enable() { return command("enable"); }
    std::string disable() { return command("disable"); }

    // Stops perf and reads the count; nullopt and a message on failure.
    std::optional<std::uint64_t> finish(std::string& error) {
        stop();
        std::ifstream f(out_path_);
        std::string line;
        std::optional<std::uint64_t> count;
        while (std::getline(f, line)) {
            // CSV: value,unit,event,... ; "<not counted>" when the event never ran.
            auto c1 = line.find(',');
            if (c1 == std::string::npos || line.find("raw_syscalls:sys_enter") == std::string::npos)
                continue;
            std::uint64_t v = 0;
            auto [p, ec] = std::from_chars(line.data(), line.data() + c1, v);
            if (ec == std::errc{} && p == line.data() + c1)
                count = v;
        }
        if (!count)
            error = "perf printed no count for raw_syscalls:sys_enter";
        return count;
    }

    ~syscall_counter() {
        stop();
        if (!out_path_.empty())
            unlink(out_path_.c_str());
    }

private:
    std::string command(const char* what) {
        const std::string hint = " (is linux-perf installed, and may this user trace the server? "
                                 "See perf_event_paranoid and CAP_PERFMON; try "
                                 "'perf stat -e raw_syscalls:sys_enter -p PID')";
        std::string cmd = std::string(what) + "\n";
        if (write(ctl_, cmd.data(), cmd.size()) != static_cast<ssize_t>(cmd.size()))
            return std::string("perf is gone: writing '") + what + "' to it: " + errno_text(errno)
                + hint;
        // perf answers "ack\n"; allow it 10 s (it may have to attach to many threads first).
        pollfd p{ack_, POLLIN, 0};
        if (poll(&p, 1, 10000) != 1)
            return std::string("perf did not acknowledge '") + what + "' within 10 s";
        char buf[16];
        ssize_t n = read(ack_, buf, sizeof buf);
        if (n < 3 || std::string_view(buf, 3) != "ack")
            return std::string("perf did not acknowledge '") + what + "'" + hint;
        return {};
    }

    void stop() {
        if (pid_ > 0) {
            kill(pid_, SIGINT);
            int st = 0;
            waitpid(pid_, &st, 0);
            pid_ = -1;
        }
        if (ctl_ >= 0)
            close(ctl_);
        if (ack_ >= 0)
            close(ack_);
        ctl_ = ack_ = -1;
    }

    pid_t pid_ = -1;
    int ctl_ = -1;
    int ack_ = -1;
    std::string out_path_;
};

int connect_one(const sockaddr_in& addr) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

}  // namespace

int main(int argc, char** argv) {
    const options o = parse_args(argc, argv);
    signal(SIGPIPE, SIG_IGN);  // a dead perf must be an error message, not our death

    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(o.port);
    if (inet_pton(AF_INET, o.host.c_str(), &addr.sin_addr) != 1)
        usage_error("--host wants an IPv4 address such as 127.0.0.1, got '" + o.host + "'");
    if (o.server_pid != 0 && !process_cpu_seconds(o.server_pid))
        usage_error("--server-pid " + std::to_string(o.server_pid) + ": no such process");

    syscall_counter perf;
    if (o.count_syscalls) {
        std::string err = perf.start(o.server_pid);
        if (!err.empty()) {
            std::fprintf(stderr, "echo_load: --count-syscalls: %s\n", err.c_str());
            return 1;
        }
    }

    std::vector<connection> conns(o.connections);
    for (unsigned i = 0; i < o.connections; ++i) {
        connection& c = conns[i];
        c.id = i;
        int fd = connect_one(addr);
        if (fd < 0) {
            std::fprintf(
                stderr,
                "echo_load: connection %u to %s:%u: %s\n",
                i,
                o.host.c_str(),
                static_cast<unsigned>(o.port),
                std::strerror(-fd));
            return 1;
        }
        c.fd = fd;
        c.sent = std::make_unique<unsigned char[]>(o.size);
        c.got = std::make_unique<unsigned char[]>(o.size);
    }

    std::vector<std::unique_ptr<worker>> workers;
    for (unsigned t = 0; t < o.threads; ++t) {
        std::vector<connection*> mine;
        for (unsigned i = t; i < o.connections; i += o.threads)
            mine.push_back(&conns[i]);
        workers.push_back(std::make_unique<worker>(o, std::move(mine), t));
    }
    std::vector<std::thread> threads;
    for (auto& w : workers)
        threads.emplace_back([&w] { w->run(); });

    // Sleeps for d in short slices, returning early when a worker failed.
    auto wait_for = [](std::chrono::nanoseconds d) {
        auto until = clock_type::now() + d;
        while (!g_failed.load() && clock_type::now() < until)
            std::this_thread::sleep_for(std::min<clock_type::duration>(
                std::chrono::milliseconds(10), until - clock_type::now()));
    };

    wait_for(o.warmup);
    std::string perf_error;
    if (o.count_syscalls && !g_failed.load())
        perf_error = perf.enable();
    std::optional<double> srv0, srv1;
    if (o.server_pid != 0)
        srv0 = process_cpu_seconds(o.server_pid);
    double self0 = self_cpu_seconds();
    auto t0 = clock_type::now();
    int expected = warming;
    g_phase.compare_exchange_strong(expected, measuring);  // not if a worker already failed

    wait_for(o.duration);
    expected = measuring;
    g_phase.compare_exchange_strong(expected, done);
    auto t1 = clock_type::now();
    double self1 = self_cpu_seconds();
    if (o.server_pid != 0)
        srv1 = process_cpu_seconds(o.server_pid);
    if (o.count_syscalls && perf_error.empty())
        perf_error = perf.disable();
    std::optional<std::uint64_t> syscalls;
    if (o.count_syscalls && perf_error.empty())
        syscalls = perf.finish(perf_error);

    for (auto& t : threads)
        t.join();
    for (auto& c : conns)
        close(c.fd);

    if (g_failed.load()) {
        std::fprintf(stderr, "echo_load: %s\n", g_error.c_str());
        return 1;
    }
    if (!perf_error.empty()) {
        std::fprintf(stderr, "echo_load: --count-syscalls: %s\n", perf_error.c_str());
        return 1;
    }
    if (o.server_pid != 0 && (!srv0 || !srv1)) {
        std::fprintf(stderr, "echo_load: server process %ld exited during the run\n", o.server_pid);
        return 1;
    }

    std::uint64_t requests = 0;
    std::vector<std::uint32_t> lat;
    for (auto& w : workers) {
        requests += w->result().requests;
        lat.insert(lat.end(), w->result().latencies_ns.begin(), w->result().latencies_ns.end());
    }
    if (requests == 0) {
        std::fprintf(stderr, "echo_load: no request completed in the measured window\n");
        return 1;
    }
    std::sort(lat.begin(), lat.end());
    auto pct = [&](double p) {
        // Nearest rank.
        std::size_t rank =
            static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(lat.size())));
        return lat[std::clamp<std::size_t>(rank, 1, lat.size()) - 1] / 1000.0;
    };
    double secs = std::chrono::duration<double>(t1 - t0).count();
    double req = static_cast<double>(requests);
    std::printf("echo_rps %.0f req/s\n", req / secs);
    std::printf("echo_p50_us %.1f us\n", pct(50));
    std::printf("echo_p99_us %.1f us\n", pct(99));
    std::printf("echo_requests %" PRIu64 " req\n", requests);
    if (o.server_pid != 0)
        std::printf("server_cpu_us_per_req %.3f us/req\n", (*srv1 - *srv0) * 1e6 / req);
    if (syscalls)
        std::printf(
            "server_syscalls_per_req %.3f syscalls/req\n", static_cast<double>(*syscalls) / req);
    std::printf("loadgen_cpu_us_per_req %.3f us/req\n", (self1 - self0) * 1e6 / req);
    return 0;
}
