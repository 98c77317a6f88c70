// Fault tier, IO-3: where io_uring cannot be set up, gorun::run and gorun::runtime throw
// gorun::setup_error — code() carries the errno, what() names the cause and the fix — and
// never crash or hang; a failed set-up leaves no fd, no thread and no state behind.
//
// Design
// - Every case forks. The child changes process-wide state that cannot be undone (a seccomp
//   filter, a dropped uid, resource limits), calls gorun, and writes what happened to a pipe
//   as records (a kind, a number, a label, a text); it never touches doctest. The parent waits
//   for it with a deadline (child_deadline): a child that hangs is killed and fails the test,
//   one that dies from a signal fails it too. The parent never starts a runtime itself, so it
//   stays single-threaded and forking is safe.
// - Skips (TESTING.md): where gorun cannot start in a child the test has not touched (io_uring
//   blocked by the machine), or where the kernel has no seccomp filters, the affected cases
//   print why; the executable then exits 77 at the end unless something failed.
// - The seccomp filter returns an errno for io_uring_setup, io_uring_enter and
//   io_uring_register of the native architecture and allows everything else.
// - The memlock case depends on the kernel: Linux 5.12-6.12 charge ring memory to the memory
//   cgroup rather than RLIMIT_MEMLOCK, later ones charge it to RLIMIT_MEMLOCK again for an
//   unprivileged user (MACHINE_FACTS.md: a 1024-entry ring fails with a 64 KiB limit here).
//   So the case accepts a setup_error with ENOMEM or a run that works, and says which.
#include "harness.hpp"

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <grp.h>
#include <initializer_list>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

// A child that has not exited by then is taken to hang: it is killed and the test fails.
constexpr auto child_deadline = std::chrono::seconds(30);

constexpr int answer_value = 42;

gorun::task<int> answer() {
    co_return answer_value;
}

gorun::runtime_options two_workers() {
    gorun::runtime_options opts;
    opts.workers = 2;
    return opts;
}

// ---- skipping (exit 77 at the end of a run in which nothing failed) ----

std::vector<std::string> skip_reasons;
bool run_failed = false;

void exit_77_if_skipped() {
    if (run_failed || skip_reasons.empty())
        return;
    std::fprintf(stderr, "setup_test: skipped (exit 77):\n");
    for (const auto& why : skip_reasons)
        std::fprintf(stderr, "  - %s\n", why.c_str());
    std::cout.flush();
    std::fflush(nullptr);
    std::_Exit(77);
}

void skip_case(const std::string& why) {
    MESSAGE("skipped: " << why);
    if (skip_reasons.empty())
        std::atexit(exit_77_if_skipped);
    for (const auto& r : skip_reasons)
        if (r == why)
            return;
    skip_reasons.push_back(why);
}

// Learns whether the run had a failure, so a skip does not hide it.
struct run_outcome_listener : doctest::IReporter {
    explicit run_outcome_listener(const doctest::ContextOptions&) {}
    void report_query(const doctest::QueryData&) override {}
    void test_run_start() override {}
    void test_run_end(const doctest::TestRunStats& s) override {
        run_failed = s.numTestCasesFailed > 0 || s.numAssertsFailed > 0;
    }
    void test_case_start(const doctest::TestCaseData&) override {}
    void test_case_reenter(const doctest::TestCaseData&) override {}
    void test_case_end(const doctest::CurrentTestCaseStats&) override {}
    void test_case_exception(const doctest::TestCaseException&) override {}
    void subcase_start(const doctest::SubcaseSignature&) override {}
    void subcase_end() override {}
    void log_assert(const doctest::AssertData&) override {}
    void log_message(const doctest::MessageData&) override {}
    void test_case_skipped(const doctest::TestCaseData&) override {}
};

REGISTER_LISTENER("gorun_fault_setup_outcome", 1, run_outcome_listener);

// ---- child -> parent records ----

enum class kind : int {
    value = 1,        // gorun started and the task returned `code`
    setup_error,      // gorun::setup_error: code() in `code`, what() in `text`
    other_exception,  // any other exception (a failure of IO-3)
    count,            // a measurement (fds, threads) in `code`
    note,             // something the parent should print
    skip,             // the kernel lacks what the case needs; `text` says what
    broken,           // the test's own set-up failed in the child; `text` says how
};

const char* kind_name(kind k) {
    switch (k) {
        case kind::value:
            return "a value";
        case kind::setup_error:
            return "a gorun::setup_error";
        case kind::other_exception:
            return "another exception";
        case kind::count:
            return "a count";
        case kind::note:
            return "a note";
        case kind::skip:
            return "a skip";
        case kind::broken:
            return "a broken test set-up";
    }
    return "?";
}

struct record {
    kind k{};
    long long code = 0;
    std::string label;
    std::string text;
};

// The child's end of the pipe. Each record is "kind code label-length text-length\n" then the
// two strings; everything a child writes fits in the pipe buffer, so writes never block.
class child_pipe {
public:
    explicit child_pipe(int fd)
        : fd_(fd) {}

    int fd() const { return fd_; }

    void send(kind k, long long code, std::string_view label, std::string_view text = {}) {
        char head[96];
        int n = std::snprintf(
            head,
            sizeof head,
            "%d %lld %zu %zu\n",
            static_cast<int>(k),
            code,
            label.size(),
            text.size());
        write_all(head, static_cast<std::size_t>(n));
        write_all(label.data(), label.size());
        write_all(text.data(), text.size());
    }

private:
    void write_all(const char* p, std::size_t n) {
        while (n > 0) {
            ssize_t w = ::write(fd_, p, n);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                _exit(120);  // the parent sees an odd exit status and fails the test
            p += w;
            n -= static_cast<std::size_t>(w);
        }
    }

    int fd_;
};

std::vector<record> parse_records(const std::string& bytes, bool& ok) {
    std::vector<record> out;
    ok = true;
    std::size_t pos = 0;
    while (pos < bytes.size()) {
        std::size_t eol = bytes.find('\n', pos);
        int k = 0;
        long long code = 0;
        std::size_t label_len = 0, text_len = 0;
        if (eol == std::string::npos
            || std::sscanf(
                   bytes.substr(pos, eol - pos).c_str(),
                   "%d %lld %zu %zu",
                   &k,
                   &code,
                   &label_len,
                   &text_len)
                != 4
            || eol + 1 + label_len + text_len > bytes.size()) {
            ok = false;
            break;
        }
        record r;
        r.k = static_cast<kind>(k);
        r.code = code;
        r.label = bytes.substr(eol + 1, label_len);
        r.text = bytes.substr(eol + 1 + label_len, text_len);
        out.push_back(std::move(r));
        pos = eol + 1 + label_len + text_len;
    }
    return out;
}

struct child_result {
    bool finished = false;  // exited by itself with status 0, records well formed
    std::string status;     // how it ended, for messages
    std::vector<record> records;

    const record* find(std::string_view label) const {
        for (const auto& r : records)
            if (r.label == label)
                return &r;
        return nullptr;
    }
    const record* first(kind k) const {
        for (const auto& r : records)
            if (r.k == k)
                return &r;
        return nullptr;
    }
};

// Runs `body(child_pipe&)` in a forked child and collects what it reported. The child ends
// with _exit(0) after the body (no doctest, no atexit handlers, no stdio flush there).
template <class F>
child_result in_child(F&& body) {
    int p[2];
    REQUIRE(::pipe(p) == 0);
    std::cout.flush();
    std::fflush(nullptr);  // nothing buffered is written twice
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        // doctest's crash handlers would report a crash of the child as the parent's own
        // test case; the parent reports it from the exit status instead.
        for (int sig : {SIGABRT, SIGBUS, SIGFPE, SIGILL, SIGINT, SIGSEGV, SIGTERM})
            std::signal(sig, SIG_DFL);
        ::close(p[0]);
        child_pipe out(p[1]);
        try {
            body(out);
        } catch (const std::exception& e) {
            out.send(kind::broken, 0, "uncaught", e.what());
        } catch (...) {
            out.send(kind::broken, 0, "uncaught", "a non-std exception left the child's body");
        }
        _exit(0);
    }
    ::close(p[1]);

    child_result res;
    int status = 0;
    bool hung = false;
    auto deadline = std::chrono::steady_clock::now() + child_deadline;
    for (;;) {
        pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR) {
            ::close(p[0]);
            FAIL("waitpid failed: " << std::strerror(errno));
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            hung = true;
            ::kill(pid, SIGKILL);
            while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
            }
            break;
        }
        // Polling a child's exit against a deadline, not synchronisation.
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }

    std::string bytes;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(p[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        bytes.append(buf, static_cast<std::size_t>(n));
    }
    ::close(p[0]);

    bool well_formed = false;
    res.records = parse_records(bytes, well_formed);
    if (hung) {
        res.status = "did not finish within " + std::to_string(child_deadline.count())
            + " s (a hang) and was killed";
    } else if (WIFSIGNALED(status)) {
        res.status = std::string("was killed by signal ") + std::to_string(WTERMSIG(status)) + " ("
            + strsignal(WTERMSIG(status)) + ")";
    } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
        res.status = "exited with status " + std::to_string(WEXITSTATUS(status));
    } else if (!well_formed) {
        res.status = "wrote a malformed report";
    } else {
        res.status = "finished";
        res.finished = true;
    }
    return res;
}

// Fails the case unless the child finished by itself and its own set-up worked; prints its
// notes. Returns false when the child asked to skip (the case is then recorded as skipped).
bool check_child(const child_result& r) {
    for (const auto& rec : r.records)
        if (rec.k == kind::note)
            MESSAGE("child: " << rec.label << ": " << rec.text);
    REQUIRE_MESSAGE(r.finished, "the child " << r.status);
    if (const record* b = r.first(kind::broken))
        FAIL(
            "the test's set-up failed in the child: " << b->label << ": " << b->text << " (errno "
                                                      << b->code << ")");
    if (const record* s = r.first(kind::skip)) {
        skip_case(s->text);
        return false;
    }
    return true;
}

// ---- what a child does ----

enum class entry { run, runtime };

// Starts gorun through `e` with `opts` and reports the outcome under `label`.
void try_gorun(
    child_pipe& out, std::string_view label, entry e, const gorun::runtime_options& opts) {
    try {
        int v = 0;
        if (e == entry::run) {
            v = gorun::run(answer(), opts);
        } else {
            gorun::runtime rt(opts);
            v = rt.block_on(answer());
        }
        out.send(kind::value, v, label);
    } catch (const gorun::setup_error& err) {
        out.send(kind::setup_error, err.code().value(), label, err.what());
    } catch (const std::exception& err) {
        out.send(kind::other_exception, 0, label, err.what());
    } catch (...) {
        out.send(kind::other_exception, 0, label, "an exception not derived from std::exception");
    }
}

// Entries of a /proc directory (the iterator's own fd counts the same every time), or -1.
long long count_entries(const char* dir) {
    std::error_code ec;
    long long n = 0;
    for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        ++n;
    return ec ? -1 : n;
}

// Sanitizer runtimes start a helper thread at a process's first thread creation (TSan does);
// starting one thread before the first count makes the counts compare like with like.
void settle_thread_count() {
    std::thread([] {}).join();
}

void send_counts(child_pipe& out, std::string_view when) {
    out.send(kind::count, count_entries("/proc/self/fd"), std::string("fds ") + std::string(when));
    out.send(
        kind::count, count_entries("/proc/self/task"), std::string("threads ") + std::string(when));
}

#if defined(__x86_64__)
constexpr std::uint32_t native_audit_arch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr std::uint32_t native_audit_arch = AUDIT_ARCH_AARCH64;
#else
constexpr std::uint32_t native_audit_arch = 0;  // no filter for this architecture: skip
#endif

// Installs a seccomp filter that fails io_uring_setup/enter/register with `err`. Reports a
// skip where the kernel has no seccomp filters, a broken set-up on any other error.
bool block_io_uring(child_pipe& out, int err) {
    if (native_audit_arch == 0) {
        out.send(kind::skip, 0, "seccomp", "no seccomp filter written for this architecture");
        return false;
    }
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        int e = errno;
        if (e == EINVAL)
            out.send(kind::skip, e, "seccomp", "this kernel lacks PR_SET_NO_NEW_PRIVS (EINVAL)");
        else
            out.send(kind::broken, e, "prctl(PR_SET_NO_NEW_PRIVS)", std::strerror(e));
        return false;
    }
    const std::uint32_t ret_errno =
        SECCOMP_RET_ERRNO | (static_cast<std::uint32_t>(err) & SECCOMP_RET_DATA);
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, native_audit_arch, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),  // another architecture: not ours to judge
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_io_uring_setup, 3, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_io_uring_enter, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_io_uring_register, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, ret_errno),
    };
    sock_fprog prog{};
    prog.len = static_cast<unsigned short>(sizeof filter / sizeof filter[0]);
    prog.filter = filter;
    if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0)
        return true;
    int e = errno;
    if (e == ENOSYS || e == EINVAL) {
        // Kernels before 3.17 have no seccomp(2); prctl is the older door to the same filter.
        if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) == 0)
            return true;
        e = errno;
        if (e == EINVAL) {
            out.send(
                kind::skip,
                e,
                "seccomp",
                "seccomp filters are unavailable in this kernel (prctl(PR_SET_SECCOMP) says "
                "EINVAL)");
            return false;
        }
    }
    out.send(kind::broken, e, "installing the seccomp filter", std::strerror(e));
    return false;
}

// ---- what the parent checks ----

bool contains(const std::string& s, std::string_view word) {
    return s.find(word) != std::string::npos;
}

// Checks that `label`'s outcome was a setup_error with `err` whose what() mentions `words`.
void check_setup_error(
    const child_result& r,
    std::string_view label,
    int err,
    std::initializer_list<std::string_view> words) {
    const record* rec = r.find(label);
    INFO("outcome of " << std::string(label));
    REQUIRE_MESSAGE(rec != nullptr, "the child reported nothing for " << std::string(label));
    INFO("what(): " << rec->text);
    REQUIRE_MESSAGE(
        rec->k == kind::setup_error,
        "expected a gorun::setup_error, got " << kind_name(rec->k) << " (" << rec->code << ")");
    CHECK_MESSAGE(
        rec->code == err,
        "code().value() is " << rec->code << " (" << std::strerror(static_cast<int>(rec->code))
                             << "), expected " << err << " (" << std::strerror(err) << ")");
    CHECK(rec->text.starts_with("gorun:"));
    for (std::string_view w : words)
        CHECK_MESSAGE(
            contains(rec->text, w), "what() does not mention \"" << std::string(w) << "\"");
}

void check_value(const child_result& r, std::string_view label) {
    const record* rec = r.find(label);
    INFO("outcome of " << std::string(label));
    REQUIRE_MESSAGE(rec != nullptr, "the child reported nothing for " << std::string(label));
    INFO("what(): " << rec->text);
    REQUIRE_MESSAGE(rec->k == kind::value, "expected the task's value, got " << kind_name(rec->k));
    CHECK(rec->code == answer_value);
}

long long count_of(const child_result& r, const std::string& label) {
    const record* rec = r.find(label);
    REQUIRE_MESSAGE(rec != nullptr, "the child reported no " << label);
    REQUIRE(rec->k == kind::count);
    REQUIRE_MESSAGE(rec->code >= 0, "the child could not count " << label);
    return rec->code;
}

// The problem with io_uring in an untouched child, or "" when gorun starts there.
const std::string& baseline_problem() {
    static std::optional<std::string> cached;
    if (!cached) {
        child_result r =
            in_child([](child_pipe& out) { try_gorun(out, "run", entry::run, two_workers()); });
        REQUIRE_MESSAGE(r.finished, "a child that only calls gorun::run " << r.status);
        const record* rec = r.find("run");
        REQUIRE(rec != nullptr);
        if (rec->k == kind::setup_error) {
            cached = "gorun cannot start on this machine even before the test changes anything "
                     "(io_uring is blocked here): "
                + rec->text;
        } else {
            REQUIRE_MESSAGE(
                rec->k == kind::value, "gorun::run in an untouched child: " << rec->text);
            REQUIRE(rec->code == answer_value);
            cached = "";
        }
    }
    return *cached;
}

bool io_uring_works_here() {
    const std::string& why = baseline_problem();
    if (why.empty())
        return true;
    skip_case(why);
    return false;
}

int io_uring_disabled_sysctl() {
    std::ifstream f("/proc/sys/kernel/io_uring_disabled");
    int v = 0;
    if (!(f >> v))
        return 0;
    return v;
}

// A child whose io_uring syscalls fail with `err` tries run() and then the runtime constructor.
child_result with_io_uring_blocked(int err) {
    return in_child([err](child_pipe& out) {
        if (!block_io_uring(out, err))
            return;
        try_gorun(out, "gorun::run", entry::run, two_workers());
        try_gorun(out, "gorun::runtime's constructor", entry::runtime, two_workers());
    });
}

}  // namespace

TEST_CASE("IO-3: io_uring blocked by seccomp with EPERM fails run() with a setup_error naming "
          "seccomp") {
    if (!io_uring_works_here())
        return;
    child_result r = with_io_uring_blocked(EPERM);
    if (!check_child(r))
        return;
    // The message blames the sysctl when it is set (gorun cannot tell the two apart).
    int sysctl = io_uring_disabled_sysctl();
    INFO("kernel.io_uring_disabled = " << sysctl);
    std::initializer_list<std::string_view> words = {"seccomp", "io_uring_setup"};
    std::initializer_list<std::string_view> sysctl_words = {"io_uring_disabled", "sysctl -w"};
    if (sysctl != 0)
        words = sysctl_words;
    check_setup_error(r, "gorun::run", EPERM, words);
    check_setup_error(r, "gorun::runtime's constructor", EPERM, words);
}

TEST_CASE("IO-3: io_uring hidden by seccomp with ENOSYS fails run() with a setup_error naming "
          "ENOSYS") {
    if (!io_uring_works_here())
        return;
    child_result r = with_io_uring_blocked(ENOSYS);
    if (!check_child(r))
        return;
    check_setup_error(r, "gorun::run", ENOSYS, {"ENOSYS", "io_uring_setup"});
    check_setup_error(r, "gorun::runtime's constructor", ENOSYS, {"ENOSYS", "io_uring_setup"});
}

TEST_CASE("IO-3: a locked-memory limit too small for the ring fails with ENOMEM and names "
          "RLIMIT_MEMLOCK") {
    if (!io_uring_works_here())
        return;
    child_result r = in_child([](child_pipe& out) {
        rlimit lim{64 * 1024, 64 * 1024};
        if (::setrlimit(RLIMIT_MEMLOCK, &lim) != 0) {
            out.send(
                kind::broken, errno, "setrlimit(RLIMIT_MEMLOCK, 64 KiB)", std::strerror(errno));
            return;
        }
        // Root (CAP_IPC_LOCK) is exempt from the limit: become nobody.
        if (::geteuid() == 0) {
            constexpr gid_t nogroup = 65534;
            constexpr uid_t nobody = 65534;
            if (::setgroups(0, nullptr) != 0 || ::setgid(nogroup) != 0 || ::setuid(nobody) != 0)
                out.send(kind::note, errno, "dropping root", std::strerror(errno));
        }
        out.send(kind::note, ::geteuid(), "running as uid", std::to_string(::geteuid()));
        gorun::runtime_options opts = two_workers();
        opts.ring_entries = 4096;
        try_gorun(out, "gorun::run", entry::run, opts);
    });
    if (!check_child(r))
        return;
    const record* rec = r.find("gorun::run");
    REQUIRE(rec != nullptr);
    if (rec->k == kind::value) {
        CHECK(rec->code == answer_value);
        const record* uid = r.find("running as uid");
        MESSAGE(
            "a 4096-entry ring started under a 64 KiB RLIMIT_MEMLOCK"
            << (uid && uid->code == 0 ? " (still root: the limit does not apply)"
                                      : ": this kernel does not charge rings to memlock")
            << "; the ENOMEM path was not exercised");
        return;
    }
    check_setup_error(r, "gorun::run", ENOMEM, {"RLIMIT_MEMLOCK", "ring_entries"});
}

TEST_CASE("after a failed set-up the process can still start a runtime") {
    if (!io_uring_works_here())
        return;
    // ring_entries 0 and 2^20 (above IORING_MAX_ENTRIES, no IORING_SETUP_CLAMP) are EINVAL
    // from io_uring_setup on every kernel: a failure that changes no process-wide state.
    child_result r = in_child([](child_pipe& out) {
        settle_thread_count();
        send_counts(out, "at first");
        gorun::runtime_options zero = two_workers();
        zero.ring_entries = 0;
        try_gorun(out, "run, 0 entries", entry::run, zero);
        send_counts(out, "after run, 0 entries");
        gorun::runtime_options huge = two_workers();
        huge.ring_entries = 1u << 20;
        try_gorun(out, "runtime, 2^20 entries", entry::runtime, huge);
        send_counts(out, "after runtime, 2^20 entries");
        try_gorun(out, "run, default entries", entry::run, two_workers());
        send_counts(out, "after run, default entries");
        try_gorun(out, "runtime, default entries", entry::runtime, two_workers());
        send_counts(out, "at last");
    });
    if (!check_child(r))
        return;
    check_setup_error(r, "run, 0 entries", EINVAL, {"ring_entries", "32768"});
    check_setup_error(r, "runtime, 2^20 entries", EINVAL, {"ring_entries", "32768"});
    check_value(r, "run, default entries");
    check_value(r, "runtime, default entries");
    // No ring fd, eventfd or worker thread outlives a failed set-up (nor a finished run: IO-2).
    for (std::string what : {"fds ", "threads "}) {
        long long before = count_of(r, what + "at first");
        INFO(what << "at first: " << before);
        CHECK(count_of(r, what + "after run, 0 entries") == before);
        CHECK(count_of(r, what + "after runtime, 2^20 entries") == before);
        CHECK(count_of(r, what + "after run, default entries") == before);
        CHECK(count_of(r, what + "at last") == before);
    }
}

TEST_CASE("IO-3: a ring set-up failing on a worker thread (EMFILE) unwinds the started workers, "
          "leaks no fd and names RLIMIT_NOFILE") {
    if (!io_uring_works_here())
        return;
    // Worker 0 (the caller) opens its ring first, then the worker threads do. With exactly
    // `room` fd numbers free below RLIMIT_NOFILE, worker 0 takes two (ring, eventfd) and
    // worker 1 fails: at io_uring_setup when room is 2, at its eventfd when room is 3 (its
    // ring already open). run() must stop worker 1, close worker 0's ring and throw.
    child_result r = in_child([](child_pipe& out) {
        // One run first, with fds to spare: it starts what sanitizer runtimes start lazily (a
        // helper thread; UBSan's vptr check needs a pipe the first time it sees a type).
        try_gorun(out, "before the limits", entry::run, two_workers());
        rlimit old{};
        if (::getrlimit(RLIMIT_NOFILE, &old) != 0) {
            out.send(kind::broken, errno, "getrlimit(RLIMIT_NOFILE)", std::strerror(errno));
            return;
        }
        for (int room : {2, 3}) {
            std::string tag = "room " + std::to_string(room);
            send_counts(out, "before " + tag);
            // The `room` lowest free fd numbers are what dup() hands out; the limit goes
            // just above the highest of them.
            std::vector<int> fds;
            for (int i = 0; i < room; ++i) {
                int fd = ::dup(out.fd());
                if (fd < 0) {
                    out.send(kind::broken, errno, "dup", std::strerror(errno));
                    return;
                }
                fds.push_back(fd);
            }
            rlimit tight = old;
            tight.rlim_cur = static_cast<rlim_t>(fds.back()) + 1;
            for (int fd : fds)
                ::close(fd);
            if (::setrlimit(RLIMIT_NOFILE, &tight) != 0) {
                out.send(kind::broken, errno, "setrlimit(RLIMIT_NOFILE)", std::strerror(errno));
                return;
            }
            gorun::runtime_options opts = two_workers();
            opts.seed = 1;  // no std::random_device, which may open /dev/urandom
            try_gorun(out, tag, entry::run, opts);
            if (::setrlimit(RLIMIT_NOFILE, &old) != 0) {
                out.send(kind::broken, errno, "restoring RLIMIT_NOFILE", std::strerror(errno));
                return;
            }
            send_counts(out, "after " + tag);
        }
        try_gorun(out, "afterwards", entry::run, two_workers());
    });
    if (!check_child(r))
        return;
    for (int room : {2, 3}) {
        std::string tag = "room " + std::to_string(room);
        CAPTURE(room);
        check_setup_error(r, tag, EMFILE, {"RLIMIT_NOFILE"});
        CHECK(count_of(r, "fds after " + tag) == count_of(r, "fds before " + tag));
        CHECK(count_of(r, "threads after " + tag) == count_of(r, "threads before " + tag));
    }
    check_value(r, "before the limits");
    check_value(r, "afterwards");
}
