// Channel/select op programs checked against a reference model of Go's semantics: the code shared
// by the libFuzzer target (test/fuzz/fuzz_channel.cpp, built with -DGORUN_FUZZ=ON) and the unit
// test that replays its corpus (test/fuzz/channel_test.cpp). docs/design/channel.md, "Fuzzing".
//
// What it runs. The input bytes decode (decode(), never rejecting an input) into a program:
// 1-4 channels of capacity 0-3 and up to 64 ops — send, recv, try_send, try_recv, close, select
// over 1-3 recv/send cases (the same channel may appear twice, in either direction) with or
// without default, yield, settle — and how the program ends. It runs on a fresh one-worker
// runtime (the seed of its shuffled scheduling decisions is a hash of the input). One controller
// task walks the ops: try_send, try_recv and close it does itself; each send, recv and select
// runs in a task of its own (go()), which may block; yield and settle let those tasks run.
//
// Design: the model moves in lockstep with the channels instead of predicting an interleaving.
// With one worker, a task runs until it suspends, so every real channel operation is bracketed
// by the model's version of it with nothing in between: a task asks the model what its op must
// do (complete at once, with which outcome, or block) right before its co_await, and a blocked
// op is resolved in the model by the op that completes it (a sender meeting it, a close), at the
// moment the real one is. Where Go leaves a choice — which ready case a select takes, which of a
// parked select's cases on one channel a partner meets — the model accepts any allowed choice
// and learns the one taken from what the task observed; a parked select's send cases on one
// channel become a value "one of {…}" that the first observation pins down.
//
// Checks (each mismatch prints the op, the program and the expected outcome, then aborts):
//  - every outcome: try_send true/false/channel_closed; try_recv ok+value/empty/closed; close
//    ok/channel_closed; recv value or nullopt; send done or channel_closed; select index, value,
//    default taken iff no case was ready (SEL-2), a chosen send on a closed channel throws;
//  - an op completes without suspending iff Go's rules say it is ready, and a parked op is woken
//    only after the model says its partner (or close) completed it (SEL-1: exactly one case);
//  - after every step: len() of every channel, and the live parked receivers and senders in each
//    channel's queues (white-box, as test/conformance), match the model;
//  - a woken task runs (settle bounds the yields: no lost wake-up);
//  - CH-3: no value is received twice, or received after its send failed; when the program
//    ends by closing everything, every task has finished, the buffers drain in the model's
//    order (CH-4), and every successfully sent value was received exactly once;
//  - after run(): every payload object was destroyed exactly once (parked tasks and buffered
//    values included, whichever way the program ended) and none was used after destruction.
//
// Invariants exercised: CH-1 (through the waiter counts), CH-3, CH-4, SEL-1, SEL-2 (choice only
// among ready cases; uniformity is test/conformance's job).
#pragma once

#include <gorun/channel.hpp>
#include <gorun/go.hpp>
#include <gorun/runtime.hpp>
#include <gorun/select.hpp>
#include <gorun/task.hpp>
#include <gorun/this_task.hpp>

#include <array>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace fuzz_channel {

// ---- the payload: counts its lifetime (CH-3: nothing lost, nothing destroyed twice) ----------

struct item {
    static constexpr std::uint32_t alive_magic = 0x600dcafe;
    static constexpr std::uint32_t dead_magic = 0xdeadbeef;
    // One worker, one thread: plain counters.
    static inline long constructed = 0;
    static inline long destroyed = 0;
    static inline long misuses = 0;  // moved from, assigned or destroyed after destruction
    static inline long holding = 0;  // live objects that hold a value (id >= 0)

    int id = -1;
    std::uint32_t magic = alive_magic;

    explicit item(int i) noexcept
        : id(i) {
        ++constructed;
        ++holding;
    }
    item(item&& o) noexcept
        : id(std::exchange(o.id, -1)) {
        if (o.magic != alive_magic)
            ++misuses;
        ++constructed;
    }
    // No assignment: channel<T> needs only a nothrow move constructor, and so must select.
    item& operator=(item&&) = delete;
    item(const item&) = delete;
    item& operator=(const item&) = delete;
    ~item() {
        if (magic != alive_magic)
            ++misuses;
        magic = dead_magic;
        if (id >= 0)
            --holding;
        ++destroyed;
    }
    static long live() noexcept { return constructed - destroyed; }
    static void reset() noexcept { constructed = destroyed = misuses = holding = 0; }
};

using chan = gorun::channel<item>;

// ---- the program ---------------------------------------------------------------------------

enum class op_kind : std::uint8_t { send, recv, try_send, try_recv, close, select, yield, settle };

// How a program ends.
enum class ending : std::uint8_t {
    drain,          // close every open channel, settle, drain the buffers: full accounting
    settle_return,  // settle, then return: blocked tasks are destroyed by run()'s shutdown
    return_now,     // return at once: runnable and blocked tasks are destroyed by shutdown
};

struct case_spec {
    bool is_send = false;
    int ch = 0;
    int value = 0;  // send cases
};

struct op_spec {
    op_kind kind = op_kind::yield;
    int ch = 0;
    int value = 0;  // send, try_send: a unique id >= 1
    int count = 1;  // yield: how many times
    bool has_default = false;
    std::vector<case_spec> cases;  // select
};

struct program {
    std::vector<unsigned> caps;
    std::vector<op_spec> ops;
    ending end = ending::drain;
    std::uint64_t seed = 1;
    int values = 0;  // ids 1..values are used
};

constexpr std::size_t max_ops = 64;
constexpr int max_select_cases = 3;

// Decodes any byte string into a program. Layout: byte 0 = channels-1 (bits 0-1) and ending
// (bits 2-3: 0,1 drain, 2 settle_return, 3 return_now); one byte per channel, capacity = b % 4;
// then ops, one byte each (low nibble = op, high nibble = channel or count), a select followed
// by a shape byte (cases-1 = (b & 3) % 3, bit 2+i = case i sends) and a channel byte (2 bits per
// case). Missing bytes read as 0. Values are numbered in program order.
inline program decode(const std::uint8_t* data, std::size_t size) {
    std::size_t pos = 0;
    auto next = [&]() -> unsigned {
        return pos < size ? data[pos++] : 0u;
    };
    program p;
    // FNV-1a of the input: the same input always gets the same scheduling seed.
    std::uint64_t h = 1469598103934665603ULL;
    for (std::size_t i = 0; i < size; ++i)
        h = (h ^ data[i]) * 1099511628211ULL;
    p.seed = h | 1;  // 0 would mean "random"
    unsigned h0 = next();
    unsigned nch = 1 + (h0 & 3);
    unsigned e = (h0 >> 2) & 3;
    p.end = e <= 1 ? ending::drain : e == 2 ? ending::settle_return : ending::return_now;
    for (unsigned i = 0; i < nch; ++i)
        p.caps.push_back(next() % 4);
    while (pos < size && p.ops.size() < max_ops) {
        unsigned b = next();
        unsigned hi = b >> 4;
        op_spec op;
        op.ch = static_cast<int>(hi % nch);
        switch (b & 15) {
            case 0:
            case 1:
                op.kind = op_kind::send;
                break;
            case 2:
            case 3:
                op.kind = op_kind::recv;
                break;
            case 4:
            case 14:
                op.kind = op_kind::try_send;
                break;
            case 5:
            case 15:
                op.kind = op_kind::try_recv;
                break;
            case 6:
                op.kind = op_kind::close;
                break;
            case 7:
            case 8:
            case 9: {
                op.kind = op_kind::select;
                op.has_default = (b & 15) == 9;
                unsigned shape = next();
                unsigned chans = next();
                int n = 1 + static_cast<int>((shape & 3) % 3);
                for (int i = 0; i < n; ++i) {
                    case_spec c;
                    c.is_send = ((shape >> (2 + i)) & 1) != 0;
                    c.ch = static_cast<int>(((chans >> (2 * i)) & 3) % nch);
                    op.cases.push_back(c);
                }
                break;
            }
            case 10:
            case 11:
                op.kind = op_kind::yield;
                op.count = 1 + static_cast<int>(hi % 4);
                break;
            default:
                op.kind = op_kind::settle;
                break;
        }
        if (op.kind == op_kind::send || op.kind == op_kind::try_send)
            op.value = ++p.values;
        for (case_spec& c : op.cases)
            if (c.is_send)
                c.value = ++p.values;
        p.ops.push_back(std::move(op));
    }
    return p;
}

inline std::string describe(const op_spec& op) {
    char buf[160];
    switch (op.kind) {
        case op_kind::send:
            std::snprintf(buf, sizeof buf, "go send(c%d, %d)", op.ch, op.value);
            break;
        case op_kind::recv:
            std::snprintf(buf, sizeof buf, "go recv(c%d)", op.ch);
            break;
        case op_kind::try_send:
            std::snprintf(buf, sizeof buf, "try_send(c%d, %d)", op.ch, op.value);
            break;
        case op_kind::try_recv:
            std::snprintf(buf, sizeof buf, "try_recv(c%d)", op.ch);
            break;
        case op_kind::close:
            std::snprintf(buf, sizeof buf, "close(c%d)", op.ch);
            break;
        case op_kind::yield:
            std::snprintf(buf, sizeof buf, "yield x%d", op.count);
            break;
        case op_kind::settle:
            std::snprintf(buf, sizeof buf, "settle");
            break;
        case op_kind::select: {
            std::string s = "go select(";
            for (std::size_t i = 0; i < op.cases.size(); ++i) {
                const case_spec& c = op.cases[i];
                if (i)
                    s += ", ";
                if (c.is_send)
                    std::snprintf(buf, sizeof buf, "%zu:send(c%d, %d)", i, c.ch, c.value);
                else
                    std::snprintf(buf, sizeof buf, "%zu:recv(c%d)", i, c.ch);
                s += buf;
            }
            if (op.has_default) {
                std::snprintf(buf, sizeof buf, ", %zu:default", op.cases.size());
                s += buf;
            }
            return s + ")";
        }
    }
    return buf;
}

inline std::string describe(const program& p) {
    std::string s = "channels:";
    char buf[64];
    for (std::size_t i = 0; i < p.caps.size(); ++i) {
        std::snprintf(buf, sizeof buf, " c%zu(cap %u)", i, p.caps[i]);
        s += buf;
    }
    static constexpr const char* endings[] = {"drain", "settle_return", "return_now"};
    std::snprintf(
        buf,
        sizeof buf,
        "; ending %s; seed %llu\n",
        endings[static_cast<int>(p.end)],
        static_cast<unsigned long long>(p.seed));
    s += buf;
    for (std::size_t i = 0; i < p.ops.size(); ++i) {
        std::snprintf(buf, sizeof buf, "  #%zu ", i);
        s += buf + describe(p.ops[i]) + "\n";
    }
    return s;
}

// Set by the unit test to say which input is running (printed with a mismatch).
inline std::string& input_name() {
    static std::string name;
    return name;
}

// ---- the reference model -------------------------------------------------------------------

// A value in the model: a known id, or (group >= 0) "one of" the send cases of a parked select
// that a receiver met on one channel — which one is pinned down by the first observation.
struct val {
    int id = -1;
    int group = -1;
};

struct choice_group {
    std::vector<std::pair<int, int>> cands;  // (case index, value id)
    int chosen = -1;                         // case index, once observed
};

// What a completed op must have observed. `index` is the select case (0 for send/recv).
enum class what : std::uint8_t { value, closed, sent, send_closed };
struct expect {
    int index = 0;
    what w = what::value;
    val v{};
};

enum class state : std::uint8_t {
    controller,  // an op the controller does itself (or not reached yet)
    spawned,     // its task is queued, not started
    immediate,   // must complete without suspending (the task is in its co_await now)
    blocked,     // parked: a partner or close completes it
    resolved,    // completed by a partner or close; its task has yet to run
    finished,
};

struct model_chan {
    unsigned cap = 0;
    bool closed = false;
    std::deque<val> buf;
    std::deque<int> recvq, sendq;  // op indices; an entry is live while its op is blocked
};

struct op_run {
    state st = state::controller;
    std::vector<expect> cands;  // allowed outcomes once resolved (blocked ops)
};

// Prints a mismatch (the op, the input's name, the program) and aborts: libFuzzer keeps the
// input as a crash, and the unit test fails.
[[noreturn]] inline void report(const program& p, int op, const char* fmt, va_list ap) {
    std::fprintf(stderr, "\nfuzz_channel: MISMATCH");
    if (!input_name().empty())
        std::fprintf(stderr, " (input %s)", input_name().c_str());
    if (op >= 0)
        std::fprintf(
            stderr, " at op #%d %s", op, describe(p.ops[static_cast<std::size_t>(op)]).c_str());
    std::fprintf(stderr, ":\n  ");
    std::vfprintf(stderr, fmt, ap);
    std::fprintf(stderr, "\nprogram:\n%s", describe(p).c_str());
    std::fflush(stderr);
    std::abort();
}

[[noreturn]] inline void report(const program& p, const char* fmt, ...)
    __attribute__((format(printf, 2, 3)));
inline void report(const program& p, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    report(p, -1, fmt, ap);
}

// ---- the interpreter -----------------------------------------------------------------------

class interp {
public:
    explicit interp(const program& p)
        : prog_(p)
        , runs_(p.ops.size())
        , sent_ok_(static_cast<std::size_t>(p.values) + 1)
        , received_(static_cast<std::size_t>(p.values) + 1) {
        for (unsigned cap : p.caps) {
            chans_.emplace_back(cap);
            model_chan m;
            m.cap = cap;
            mchans_.push_back(m);
        }
    }

    [[noreturn]] void fail(const char* fmt, ...) const __attribute__((format(printf, 2, 3))) {
        va_list ap;
        va_start(ap, fmt);
        report(prog_, cur_, fmt, ap);
    }

    // The controller: the whole program.
    gorun::task<> controller() {
        for (int i = 0; i < static_cast<int>(prog_.ops.size()); ++i) {
            const op_spec& op = prog_.ops[static_cast<std::size_t>(i)];
            cur_ = i;
            switch (op.kind) {
                case op_kind::send:
                case op_kind::recv:
                case op_kind::select:
                    spawn(i);
                    break;
                case op_kind::try_send:
                    do_try_send(op.ch, op.value);
                    break;
                case op_kind::try_recv:
                    do_try_recv(op.ch);
                    break;
                case op_kind::close:
                    do_close(op.ch);
                    break;
                case op_kind::yield:
                    for (int k = 0; k < op.count; ++k) {
                        co_await gorun::yield();
                        check_quiet("the controller resumed");
                    }
                    break;
                case op_kind::settle:
                    co_await settle();
                    break;
            }
            check_channels();
        }
        cur_ = -1;
        switch (prog_.end) {
            case ending::return_now:
                co_return;
            case ending::settle_return:
                co_await settle();
                co_return;
            case ending::drain:
                break;
        }
        // Close everything: every parked task must be woken and finish (CH-4).
        for (std::size_t c = 0; c < chans_.size(); ++c)
            if (!mchans_[c].closed)
                do_close(static_cast<int>(c));
        co_await settle();
        for (std::size_t i = 0; i < runs_.size(); ++i)
            if (runs_[i].st != state::controller && runs_[i].st != state::finished) {
                cur_ = static_cast<int>(i);
                fail("every channel is closed and settled, but this op's task has not finished");
            }
        // Drain: the buffers, in the model's order, then closed.
        for (std::size_t c = 0; c < chans_.size(); ++c) {
            while (!mchans_[c].buf.empty())
                do_try_recv(static_cast<int>(c));
            do_try_recv(static_cast<int>(c));
        }
        check_channels();
        // CH-3: every value sent was received exactly once; nothing else was.
        for (int id = 1; id <= prog_.values; ++id) {
            auto u = static_cast<std::size_t>(id);
            if (received_[u] != (sent_ok_[u] ? 1 : 0))
                fail(
                    "value %d: sent %s, received %d times",
                    id,
                    sent_ok_[u] ? "successfully" : "never (failed or not chosen)",
                    received_[u]);
        }
        if (item::holding != 0)
            fail("%ld values still held after the drain", item::holding);
    }

    // ---- the tasks ----

    static gorun::task<> send_task(interp* in, int i) {
        in->start(i);
        const op_spec& op = in->prog_.ops[static_cast<std::size_t>(i)];
        bool threw = false;
        in->predict_send(i);
        try {
            co_await in->chans_[static_cast<std::size_t>(op.ch)].send(item(op.value));
        } catch (const gorun::channel_closed&) {
            threw = true;
        }
        in->resumed(i);
        const expect& e = in->outcome_of_plain(i);
        if (threw != (e.w == what::send_closed))
            in->fail(
                "%s",
                threw ? "send threw channel_closed; expected it to be sent"
                      : "send completed; expected channel_closed");
        if (!threw)
            in->sent_ok_[static_cast<std::size_t>(op.value)] = true;
        in->finish(i);
    }

    static gorun::task<> recv_task(interp* in, int i) {
        in->start(i);
        const op_spec& op = in->prog_.ops[static_cast<std::size_t>(i)];
        in->predict_recv(i);
        std::optional<item> got = co_await in->chans_[static_cast<std::size_t>(op.ch)].recv();
        in->resumed(i);
        const expect& e = in->outcome_of_plain(i);
        in->check_recv(e, got ? got->id : -1, "recv");
        in->finish(i);
    }

    template <bool Default, bool... Send>
    struct select_task {
        static gorun::task<> run(interp* in, int i) {
            return body(in, i, std::make_index_sequence<sizeof...(Send)>{});
        }

        template <std::size_t... I>
        static gorun::task<> body(interp* in, int i, std::index_sequence<I...>) {
            in->start(i);
            const op_spec& op = in->prog_.ops[static_cast<std::size_t>(i)];
            int index = -1;
            int got = -1;
            bool threw = false;
            in->predict_select(i);
            try {
                if constexpr (Default) {
                    auto r = co_await gorun::select(
                        make_case<Send>(*in, op.cases[I])..., gorun::default_case);
                    index = r.index;
                    (take<Send, I>(r, &got), ...);
                } else {
                    auto r = co_await gorun::select(make_case<Send>(*in, op.cases[I])...);
                    index = r.index;
                    (take<Send, I>(r, &got), ...);
                }
            } catch (const gorun::channel_closed&) {
                threw = true;
            }
            in->resumed(i);
            in->select_done(i, index, got, threw);
            in->finish(i);
        }

        template <bool S>
        static auto make_case(interp& in, const case_spec& c) {
            if constexpr (S)
                return gorun::send(in.chans_[static_cast<std::size_t>(c.ch)], item(c.value));
            else
                return gorun::recv(in.chans_[static_cast<std::size_t>(c.ch)]);
        }

        template <bool S, std::size_t I, class R>
        static void take(R& r, int* got) {
            if constexpr (!S) {
                if (r.index == static_cast<int>(I)) {
                    auto& v = std::get<I>(r.values);
                    *got = v ? v->id : -1;
                }
            }
        }
    };

private:
    using task_fn = gorun::task<> (*)(interp*, int);

    // The select task for a shape: cases (1-3), which of them send (bit i), default or not.
    template <bool Default, unsigned N, unsigned Mask, bool... S>
    static constexpr task_fn pick() {
        if constexpr (sizeof...(S) == N)
            return &select_task<Default, S...>::run;
        else
            return pick<Default, N, Mask, S..., ((Mask >> sizeof...(S)) & 1u) != 0>();
    }
    template <bool Default, unsigned N, unsigned... M>
    static constexpr std::array<task_fn, sizeof...(M)> row(std::integer_sequence<unsigned, M...>) {
        return {pick<Default, N, M>()...};
    }
    static task_fn select_fn(bool def, unsigned n, unsigned mask) {
        static constexpr auto r1 = row<false, 1>(std::make_integer_sequence<unsigned, 2>{});
        static constexpr auto r2 = row<false, 2>(std::make_integer_sequence<unsigned, 4>{});
        static constexpr auto r3 = row<false, 3>(std::make_integer_sequence<unsigned, 8>{});
        static constexpr auto d1 = row<true, 1>(std::make_integer_sequence<unsigned, 2>{});
        static constexpr auto d2 = row<true, 2>(std::make_integer_sequence<unsigned, 4>{});
        static constexpr auto d3 = row<true, 3>(std::make_integer_sequence<unsigned, 8>{});
        switch (n) {
            case 1:
                return def ? d1[mask] : r1[mask];
            case 2:
                return def ? d2[mask] : r2[mask];
            default:
                return def ? d3[mask] : r3[mask];
        }
    }

    void spawn(int i) {
        const op_spec& op = prog_.ops[static_cast<std::size_t>(i)];
        runs_[static_cast<std::size_t>(i)].st = state::spawned;
        ++to_run_;
        if (op.kind == op_kind::send) {
            gorun::go(&interp::send_task, this, i);
        } else if (op.kind == op_kind::recv) {
            gorun::go(&interp::recv_task, this, i);
        } else {
            unsigned mask = 0;
            for (std::size_t k = 0; k < op.cases.size(); ++k)
                if (op.cases[k].is_send)
                    mask |= 1u << k;
            gorun::go(
                select_fn(op.has_default, static_cast<unsigned>(op.cases.size()), mask), this, i);
        }
    }

    // Lets every spawned task start and every woken task run (yields are bounded: a task that
    // never runs is a lost wake-up).
    gorun::task<> settle() {
        for (long spins = 0; to_run_ > 0; ++spins) {
            if (spins > 100000) {
                for (std::size_t i = 0; i < runs_.size(); ++i)
                    if (runs_[i].st == state::spawned || runs_[i].st == state::resolved) {
                        cur_ = static_cast<int>(i);
                        break;
                    }
                fail("this op's task was made runnable but never ran (100000 yields)");
            }
            co_await gorun::yield();
            check_quiet("the controller resumed");
        }
    }

    // Some task is running: no op may be half way through an immediate completion.
    void check_quiet(const char* who) const {
        if (inflight_ >= 0) {
            cur_ = inflight_;
            fail("this op had to complete without suspending, but it parked (%s meanwhile)", who);
        }
    }

    void start(int i) {
        check_quiet("another task started");
        cur_ = i;
        op_run& r = runs_[static_cast<std::size_t>(i)];
        if (r.st != state::spawned)
            fail("task started twice");
        --to_run_;
    }

    // Back from the op's co_await: it completed at once (immediate) or was completed by a
    // partner while parked (resolved).
    void resumed(int i) {
        op_run& r = runs_[static_cast<std::size_t>(i)];
        if (r.st == state::immediate) {
            if (inflight_ != i)
                fail("internal: immediate op %d resumed while %d was in flight", i, inflight_);
            inflight_ = -1;
        } else {
            check_quiet("a parked task resumed");
            cur_ = i;
            if (r.st == state::blocked)
                fail("the op completed, but no partner or close could have completed it (Go "
                     "blocks here)");
            if (r.st != state::resolved)
                fail("internal: resumed in state %d", static_cast<int>(r.st));
            --to_run_;
        }
    }

    void finish(int i) {
        runs_[static_cast<std::size_t>(i)].st = state::finished;
        check_channels();
        cur_ = -1;
    }

    const expect& outcome_of_plain(int i) const {
        const op_run& r = runs_[static_cast<std::size_t>(i)];
        if (r.cands.size() != 1)
            fail("internal: a plain op with %zu outcomes", r.cands.size());
        return r.cands[0];
    }

    void go_immediate(int i, std::vector<expect> cands) {
        op_run& r = runs_[static_cast<std::size_t>(i)];
        r.st = state::immediate;
        r.cands = std::move(cands);
        inflight_ = i;
    }

    // ---- the model's operations; each one mirrors what the channel does under its lock ----

    model_chan& mc(int c) { return mchans_[static_cast<std::size_t>(c)]; }
    const op_spec& spec(int i) const { return prog_.ops[static_cast<std::size_t>(i)]; }
    bool live(int i) const { return runs_[static_cast<std::size_t>(i)].st == state::blocked; }

    bool has_live(const std::deque<int>& q) const {
        for (int i : q)
            if (live(i))
                return true;
        return false;
    }
    std::size_t count_live(const std::deque<int>& q) const {
        std::size_t n = 0;
        for (int i : q)
            n += live(i) ? 1 : 0;
        return n;
    }
    // The first waiter that is still parked (dead ones — the other cases of a select that has
    // completed — are dropped on the way, as wait_queue::pop_claimed does).
    int pop_live(std::deque<int>& q) {
        while (!q.empty()) {
            int i = q.front();
            q.pop_front();
            if (live(i))
                return i;
        }
        return -1;
    }

    void resolve(int i, std::vector<expect> cands) {
        op_run& r = runs_[static_cast<std::size_t>(i)];
        r.st = state::resolved;
        r.cands = std::move(cands);
        ++to_run_;
    }

    // A receiver met parked sender `s` on channel c: the value it takes. A select with several
    // send cases on c may have been met on any of them.
    val take_sender(int s, int c) {
        const op_spec& op = spec(s);
        if (op.kind == op_kind::send) {
            resolve(s, {expect{0, what::sent, val{op.value, -1}}});
            return val{op.value, -1};
        }
        choice_group g;
        for (std::size_t k = 0; k < op.cases.size(); ++k)
            if (op.cases[k].is_send && op.cases[k].ch == c)
                g.cands.emplace_back(static_cast<int>(k), op.cases[k].value);
        if (g.cands.size() == 1) {
            auto [k, id] = g.cands[0];
            resolve(s, {expect{k, what::sent, val{id, -1}}});
            return val{id, -1};
        }
        int gi = static_cast<int>(groups_.size());
        std::vector<expect> cands;
        for (auto [k, id] : g.cands)
            cands.push_back(expect{k, what::sent, val{-1, gi}});
        groups_.push_back(std::move(g));
        resolve(s, std::move(cands));
        return val{-1, gi};
    }

    // A sender handed `v` to parked receiver `r` on channel c.
    void give_receiver(int r, int c, val v) {
        const op_spec& op = spec(r);
        if (op.kind == op_kind::recv) {
            resolve(r, {expect{0, what::value, v}});
            return;
        }
        std::vector<expect> cands;
        for (std::size_t k = 0; k < op.cases.size(); ++k)
            if (!op.cases[k].is_send && op.cases[k].ch == c)
                cands.push_back(expect{static_cast<int>(k), what::value, v});
        resolve(r, std::move(cands));
    }

    // close(c) woke parked op i. A select may be woken through any of its cases on c (Go wakes
    // the receivers first; the model does not insist).
    void close_waiter(int i, int c) {
        const op_spec& op = spec(i);
        if (op.kind == op_kind::recv) {
            resolve(i, {expect{0, what::closed, {}}});
        } else if (op.kind == op_kind::send) {
            resolve(i, {expect{0, what::send_closed, {}}});
        } else {
            std::vector<expect> cands;
            for (std::size_t k = 0; k < op.cases.size(); ++k)
                if (op.cases[k].ch == c)
                    cands.push_back(expect{
                        static_cast<int>(k),
                        op.cases[k].is_send ? what::send_closed : what::closed,
                        {}});
            resolve(i, std::move(cands));
        }
    }

    bool recv_ready(int c) const {
        const model_chan& m = mchans_[static_cast<std::size_t>(c)];
        return has_live(m.sendq) || !m.buf.empty() || m.closed;
    }
    bool send_ready(int c) const {
        const model_chan& m = mchans_[static_cast<std::size_t>(c)];
        return m.closed || has_live(m.recvq) || m.buf.size() < m.cap;
    }

    // Go's send on c of value id, if it does not block: sent or send_closed; nullopt: blocks.
    std::optional<what> model_send(int c, int id) {
        model_chan& m = mc(c);
        if (m.closed)
            return what::send_closed;
        if (int r = pop_live(m.recvq); r >= 0) {
            if (!m.buf.empty())
                fail("model: a receiver parked on a non-empty buffer (CH-1)");
            give_receiver(r, c, val{id, -1});
            return what::sent;
        }
        if (m.buf.size() < m.cap) {
            m.buf.push_back(val{id, -1});
            return what::sent;
        }
        return std::nullopt;
    }

    // Go's receive on c, if it does not block: the value, or closed; nullopt: blocks.
    std::optional<expect> model_recv(int c) {
        model_chan& m = mc(c);
        if (int s = pop_live(m.sendq); s >= 0) {
            val v = take_sender(s, c);
            if (m.cap == 0)
                return expect{0, what::value, v};
            // A sender parks only on a full buffer: the oldest value goes out, the sender's in
            // at the back (CH-3: FIFO).
            if (m.buf.size() != m.cap)
                fail("model: a sender parked on a buffer with room (CH-1)");
            val front = m.buf.front();
            m.buf.pop_front();
            m.buf.push_back(v);
            return expect{0, what::value, front};
        }
        if (!m.buf.empty()) {
            val front = m.buf.front();
            m.buf.pop_front();
            return expect{0, what::value, front};
        }
        if (m.closed)
            return expect{0, what::closed, {}};
        return std::nullopt;
    }

    // Checks an observed value against the model's `v`; pins down a "one of" value.
    void check_value(const val& v, int got, const char* who) {
        if (got < 0)
            fail("%s: got closed (nullopt); expected a value", who);
        if (v.group < 0) {
            if (got != v.id)
                fail("%s: got value %d; expected %d", who, got, v.id);
        } else {
            choice_group& g = groups_[static_cast<std::size_t>(v.group)];
            int k_got = -1;
            int want = -1;
            for (auto [k, id] : g.cands) {
                if (id == got)
                    k_got = k;
                if (k == g.chosen)
                    want = id;
            }
            if (g.chosen >= 0 && got != want)
                fail(
                    "%s: got value %d; the parked select's partner saw case %d (value %d)",
                    who,
                    got,
                    g.chosen,
                    want);
            if (k_got < 0)
                fail(
                    "%s: got value %d, which none of the parked select's send cases sent",
                    who,
                    got);
            g.chosen = k_got;
        }
        if (got == 0 || got > prog_.values)
            fail("%s: got value %d, which was never sent", who, got);
        if (++received_[static_cast<std::size_t>(got)] > 1)
            fail("%s: value %d received twice (CH-3)", who, got);
    }

    void check_recv(const expect& e, int got, const char* who) {
        if (e.w == what::closed) {
            if (got >= 0)
                fail("%s: got value %d; expected closed (nullopt)", who, got);
        } else {
            check_value(e.v, got, who);
        }
    }

    // ---- predictions, made right before the real op, with nothing in between ----

    void predict_send(int i) {
        const op_spec& op = spec(i);
        if (auto r = model_send(op.ch, op.value)) {
            go_immediate(i, {expect{0, *r, {}}});
        } else {
            runs_[static_cast<std::size_t>(i)].st = state::blocked;
            mc(op.ch).sendq.push_back(i);
        }
    }

    void predict_recv(int i) {
        const op_spec& op = spec(i);
        if (auto r = model_recv(op.ch)) {
            go_immediate(i, {*r});
        } else {
            runs_[static_cast<std::size_t>(i)].st = state::blocked;
            mc(op.ch).recvq.push_back(i);
        }
    }

    // A select's outcome depends on the random choice among ready cases, so the model only
    // decides here whether it completes at once; select_done applies the case it took.
    void predict_select(int i) {
        const op_spec& op = spec(i);
        bool ready = false;
        for (const case_spec& c : op.cases)
            ready |= c.is_send ? send_ready(c.ch) : recv_ready(c.ch);
        if (ready || op.has_default) {
            go_immediate(i, {});
            return;
        }
        runs_[static_cast<std::size_t>(i)].st = state::blocked;
        for (const case_spec& c : op.cases)
            (c.is_send ? mc(c.ch).sendq : mc(c.ch).recvq).push_back(i);
    }

    void select_done(int i, int index, int got, bool threw) {
        const op_spec& op = spec(i);
        op_run& r = runs_[static_cast<std::size_t>(i)];
        int n = static_cast<int>(op.cases.size());
        if (!threw && (index < 0 || index > n || (index == n && !op.has_default)))
            fail("select returned index %d", index);
        if (r.st == state::immediate) {
            // It completed without suspending: it must have taken a ready case (any of them:
            // SEL-2), or default when none was ready.
            std::vector<int> ready;
            bool closed_send_ready = false;
            for (int k = 0; k < n; ++k) {
                const case_spec& c = op.cases[static_cast<std::size_t>(k)];
                if (c.is_send ? send_ready(c.ch) : recv_ready(c.ch))
                    ready.push_back(k);
                if (c.is_send && mc(c.ch).closed)
                    closed_send_ready = true;
            }
            if (threw) {
                if (!closed_send_ready)
                    fail("select threw channel_closed, but no send case is on a closed channel");
                return;  // a send on a closed channel changes nothing
            }
            if (index == n) {
                if (!ready.empty())
                    fail("select took default although case %d was ready (SEL-2)", ready[0]);
                return;
            }
            bool was_ready = false;
            for (int k : ready)
                was_ready |= k == index;
            if (!was_ready)
                fail("select took case %d, which was not ready", index);
            const case_spec& c = op.cases[static_cast<std::size_t>(index)];
            if (c.is_send) {
                std::optional<what> w = model_send(c.ch, c.value);
                if (w != what::sent)
                    fail(
                        "select completed send case %d; expected it to throw channel_closed",
                        index);
                sent_ok_[static_cast<std::size_t>(c.value)] = true;
            } else {
                std::optional<expect> e = model_recv(c.ch);
                check_recv(*e, got, "select recv case");
            }
            return;
        }
        // Completed while parked: the outcome must be one the partner (or close) allowed.
        for (const expect& e : r.cands) {
            if (threw) {
                if (e.w == what::send_closed)
                    return;
                continue;
            }
            if (e.index != index)
                continue;
            switch (e.w) {
                case what::value:
                case what::closed:
                    check_recv(e, got, "parked select recv case");
                    return;
                case what::sent: {
                    if (e.v.group >= 0) {
                        choice_group& g = groups_[static_cast<std::size_t>(e.v.group)];
                        if (g.chosen >= 0 && g.chosen != index)
                            fail(
                                "parked select reports send case %d, but its partner received "
                                "case %d's value",
                                index,
                                g.chosen);
                        g.chosen = index;
                    }
                    sent_ok_[static_cast<std::size_t>(
                        op.cases[static_cast<std::size_t>(index)].value)] = true;
                    return;
                }
                case what::send_closed:
                    fail("parked select completed send case %d; expected channel_closed", index);
            }
        }
        std::string allowed;
        for (const expect& e : r.cands) {
            static constexpr const char* names[] = {"value", "closed", "sent", "send_closed"};
            char buf[48];
            std::snprintf(buf, sizeof buf, " %d:%s", e.index, names[static_cast<int>(e.w)]);
            allowed += buf;
        }
        fail(
            "parked select completed with %s%d; the model allows only:%s",
            threw ? "channel_closed, index " : "case ",
            index,
            allowed.c_str());
    }

    // ---- the controller's own ops ----

    void do_try_send(int c, int id) {
        std::optional<what> w = model_send(c, id);
        bool ok = false;
        bool threw = false;
        try {
            ok = chans_[static_cast<std::size_t>(c)].try_send(item(id));
        } catch (const gorun::channel_closed&) {
            threw = true;
        }
        if (threw != (w == what::send_closed) || ok != (w == what::sent))
            fail(
                "try_send %s; expected %s",
                threw    ? "threw channel_closed"
                    : ok ? "returned true"
                         : "returned false",
                w == what::send_closed ? "channel_closed"
                    : w == what::sent  ? "true"
                                       : "false");
        if (ok)
            sent_ok_[static_cast<std::size_t>(id)] = true;
    }

    void do_try_recv(int c) {
        std::optional<expect> e = model_recv(c);
        auto r = chans_[static_cast<std::size_t>(c)].try_recv();
        if (!e) {
            if (r.status != gorun::recv_status::empty)
                fail("try_recv on c%d: status %d; expected empty", c, static_cast<int>(r.status));
            return;
        }
        if (e->w == what::closed) {
            if (r.status != gorun::recv_status::closed)
                fail("try_recv on c%d: status %d; expected closed", c, static_cast<int>(r.status));
            return;
        }
        if (r.status != gorun::recv_status::ok || !r.value)
            fail("try_recv on c%d: status %d; expected a value", c, static_cast<int>(r.status));
        check_value(e->v, r.value->id, "try_recv");
    }

    void do_close(int c) {
        model_chan& m = mc(c);
        bool was_closed = m.closed;
        if (!was_closed) {
            m.closed = true;
            while (true) {
                int i = pop_live(m.recvq);
                if (i < 0)
                    break;
                close_waiter(i, c);
            }
            while (true) {
                int i = pop_live(m.sendq);
                if (i < 0)
                    break;
                close_waiter(i, c);
            }
        }
        bool threw = false;
        try {
            chans_[static_cast<std::size_t>(c)].close();
        } catch (const gorun::channel_closed&) {
            threw = true;
        }
        if (threw != was_closed)
            fail(
                "close of c%d %s",
                c,
                threw ? "threw on an open channel"
                      : "of a closed channel did "
                        "not throw");
    }

    // len() and the parked waiters of every channel match the model (white-box: the waiters
    // that can still be claimed, read under the channel's lock, as test/conformance does).
    void check_channels() const {
        for (std::size_t c = 0; c < chans_.size(); ++c) {
            const model_chan& m = mchans_[c];
            auto* s = chans_[c].state();
            std::size_t len = 0;
            std::size_t nrecv = 0;
            std::size_t nsend = 0;
            {
                // The channel's own unlock(), which may hand the ring back to the fast path.
                s->lock.lock();
                len = s->count();
                nrecv = s->recvq.claimable_count();
                nsend = s->sendq.claimable_count();
                s->unlock();
            }
            if (len != m.buf.size() || chans_[c].size() != len)
                fail("c%zu holds %zu values; the model holds %zu", c, len, m.buf.size());
            if (chans_[c].capacity() != m.cap)
                fail("c%zu has capacity %zu; expected %u", c, chans_[c].capacity(), m.cap);
            std::size_t mr = count_live(m.recvq);
            std::size_t ms = count_live(m.sendq);
            if (nrecv != mr || nsend != ms)
                fail(
                    "c%zu has %zu parked receivers and %zu senders; the model has %zu and %zu",
                    c,
                    nrecv,
                    nsend,
                    mr,
                    ms);
        }
    }

    const program& prog_;
    std::vector<chan> chans_;
    std::vector<model_chan> mchans_;
    std::vector<op_run> runs_;
    std::vector<choice_group> groups_;
    std::vector<bool> sent_ok_;
    std::vector<int> received_;
    mutable int cur_ = -1;  // the op being checked (for messages)
    int inflight_ = -1;     // the op completing without suspending right now
    long to_run_ = 0;       // tasks spawned or resolved that have not run yet
};

// Runs one input: decodes it, runs the program on a fresh one-worker runtime, checks it.
inline void run_input(const std::uint8_t* data, std::size_t size) {
    program p = decode(data, size);
    item::reset();
    {
        interp in(p);
        gorun::runtime_options opts;
        opts.workers = 1;
        opts.seed = p.seed;
        gorun::run(in.controller(), opts);
    }
    // The runtime is gone (parked tasks destroyed) and so are the channels (buffered values).
    if (item::misuses != 0)
        report(p, "a payload was moved from or destroyed after its destruction");
    if (item::live() != 0)
        report(p, "%ld payload objects leaked (destroyed twice, if negative)", item::live());
}

}  // namespace fuzz_channel
