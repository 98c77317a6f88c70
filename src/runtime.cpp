// The scheduler: worker loops, finding work, the park/wake protocol, start-up and shutdown.
// docs/design/scheduler.md is the prose version of this file; the IDs match.
//
// Finding work (next_task / find_slow), in order:
//   every 61st tick: housekeeping (remote frees, due timers, ring completions), then one task
//   from the global queue, then (at most once per millisecond) the oldest task of the local
//   queue — so neither the global queue nor old local tasks starve behind new work or a
//   ping-pong in the `next` slot;
//   the `next` slot; the local queue (LIFO); then the slow path: housekeeping, the global
//   queue (a batch), stealing half of another worker's queue, spinning, parking.
//
// Park/wake protocol (SCHED-2: no lost wake-up)
//   Parker:   lock idle_mu; in_idle = true; push self; nidle += 1 (seq_cst); unlock;
//             re-check stopping, the global queue, every local queue, due timers (seq_cst);
//             if anything: unidle and go on; else wait on the ring.
//   Producer (global queue): push under the queue lock with size += n (seq_cst); then
//             if nspinning == 0 (seq_cst) wake_one.
//   wake_one: if nidle == 0 return; CAS nspinning 0 -> 1 (at most one waker at a time, and
//             none while a worker is already searching); pop an idle worker under idle_mu,
//             clear its in_idle, and post a completion to its ring. The woken worker counts
//             as spinning (the CAS counted it).
//   All accesses in the two Dekker pairs (size / nidle, nspinning / size) are seq_cst, so in
//   the single total order either the producer sees the parker as idle, or the parker's
//   re-check sees the work. A wake that races with the parker re-checking is not lost either:
//   it is a completion on the parker's ring, and io_uring_enter returns at once if one is
//   already there.
//   Local pushes (spawn, timer, wake of a task into the next slot or the local queue) do not
//   pay for a fence: the pushing worker runs that work itself if nobody else takes it, so
//   the only cost of a missed wake is parallelism, and the next push or the periodic check
//   (every 61 ticks) repairs that.
//
// Spinning (bounded): a worker that finds nothing becomes a spinner only while
//   2 * nspinning < workers - nidle (at most half of the busy workers spin), spins for
//   runtime_options::spin (default 30 µs: a parked worker costs 15-23 µs to wake on this
//   machine, so shorter spins turn ping-pongs into park/wake cycles), then parks. The last
//   spinner to find work wakes another worker if more work is visible (Go's resetspinning).
#include <gorun/runtime.hpp>
#include <gorun/this_task.hpp>
#include <gorun/time.hpp>

#include "io/op.hpp"
#include "runtime_state.hpp"
#include "sys/cpus.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <random>

namespace gorun::detail {

constinit thread_local worker* tls_worker = nullptr;

namespace {

constexpr std::uint64_t fairness_interval = 61;  // as Go's schedule(): a prime
constexpr std::int64_t fair_pop_interval_ns = 1'000'000;

std::mutex registry_mu;
std::vector<runtime_state*> registry;

std::uint64_t splitmix64(std::uint64_t x) noexcept {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

std::uint64_t next_rand(worker& w) noexcept {
    // xorshift64*: cheap, and good enough to pick victims and shuffle decisions.
    std::uint64_t x = w.rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    w.rng = x;
    return x * 0x2545f4914f6cdd1dULL;
}

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

void send_wake(worker* from, worker& to) noexcept {
    if (from && from->rt == to.rt && from->io.is_open()) {
        from->io.send_wake(to.io.fd(), to.io.event_fd());
        from->stat_wakes_sent.inc();
    } else {
        ring::wake_by_eventfd(to.io.event_fd());
    }
}

// Wakes one parked worker if none is searching already (see the protocol above).
void wake_one(runtime_state& rt, worker* from) noexcept {
    if (rt.nidle.load(std::memory_order_seq_cst) == 0)
        return;
    int zero = 0;
    if (!rt.nspinning.compare_exchange_strong(zero, 1, std::memory_order_seq_cst))
        return;
    worker* v = nullptr;
    {
        std::lock_guard lock(rt.idle_mu);
        if (!rt.idle.empty()) {
            v = rt.idle.back();
            rt.idle.pop_back();
            v->in_idle = false;
            rt.nidle.fetch_sub(1, std::memory_order_seq_cst);
        }
    }
    if (!v) {
        rt.nspinning.fetch_sub(1, std::memory_order_seq_cst);
        return;
    }
    send_wake(from, *v);
}

// A cheap, unfenced "is anyone idle and nobody searching?" after a local push.
inline void notify_local(worker& w) noexcept {
    runtime_state& rt = *w.rt;
    if (rt.nidle.load(std::memory_order_relaxed) != 0
        && rt.nspinning.load(std::memory_order_relaxed) == 0)
        wake_one(rt, &w);
}

// The local queue is full: move half of it (the oldest) to the global queue in one batch, as
// Go's runqputslow does, so a spawn storm spreads instead of failing.
[[gnu::noinline]] void push_overflow(worker& w, task_base* t) noexcept {
    task_base* first = nullptr;
    task_base* last = nullptr;
    std::size_t n = 0;
    for (std::int64_t i = 0; i < run_queue::capacity / 2; ++i) {
        task_base* x = w.queue.steal();
        if (!x)
            break;
        x->link_ = nullptr;
        if (last)
            last->link_ = x;
        else
            first = x;
        last = x;
        ++n;
    }
    if (n)
        w.rt->inject.push_batch(first, last, n);
    if (!w.queue.push(t))
        w.rt->inject.push(t);
    wake_one(*w.rt, &w);
}

[[gnu::always_inline]] inline void push_local(worker& w, task_base* t) noexcept {
    if (!w.queue.push(t)) [[unlikely]] {
        push_overflow(w, t);
        return;
    }
    notify_local(w);
}

void inject_and_wake(runtime_state& rt, task_base* t) noexcept {
    rt.inject.push(t);
    if (rt.nspinning.load(std::memory_order_seq_cst) == 0) {
        worker* w = tls_worker;
        wake_one(rt, w && w->rt == &rt ? w : nullptr);
    }
}

std::uint64_t take_id(worker& w) noexcept {
    constexpr std::uint64_t batch = 256;
    if (w.id_next == w.id_end) {
        w.id_next = w.rt->next_id.fetch_add(batch, std::memory_order_relaxed);
        w.id_end = w.id_next + batch;
    }
    return w.id_next++;
}

// Runs the callbacks of due timers. True if any fired.
bool fire_timers(worker& w) noexcept {
    if (w.timers.empty())
        return false;
    std::int64_t now = now_ns();
    bool fired = false;
    while (timer_node* n = w.timers.pop_expired(now)) {
        n->fire(n);
        w.stat_timers_fired.inc();
        fired = true;
    }
    w.stat_timers.store(w.timers.size(), std::memory_order_relaxed);
    return fired;
}

void housekeeping(worker& w) noexcept {
    drain_remote_frees(w);
    // Cancelled select timers wait in the heap for their deadline; when they are more than a
    // quarter of it, drop them all at once (amortised O(1), as Go's timer cleaning).
    if (w.timer_tombstones.load(std::memory_order_relaxed)
        > static_cast<std::int64_t>(w.timers.size() / 4 + 64))
        w.timer_tombstones.fetch_sub(
            static_cast<std::int64_t>(w.timers.purge_cancelled()), std::memory_order_relaxed);
    fire_timers(w);  // an expired I/O deadline prepares its cancel SQEs here
    io_process_cancels(w);
    run_ring_calls(w);  // io_uring_register_* on every ring (uring::on_every_ring)
    // One enter submits every SQE this pass prepared (ops, cancels) and reaps (io.md).
    w.io.poll();
}

// Takes up to `max` tasks from the global queue: returns one, queues the rest locally (never
// more than fit, so a batch cannot bounce between the local queue and the global one).
task_base* take_inject(worker& w, std::size_t max) noexcept {
    runtime_state& rt = *w.rt;
    std::size_t avail = rt.inject.size();
    if (avail == 0)
        return nullptr;
    auto room = static_cast<std::size_t>(
        run_queue::capacity / 2 - std::min<std::int64_t>(w.queue.size(), run_queue::capacity / 2));
    max = std::min({max, avail / rt.nworkers + 1, room + 1});
    std::size_t n = 0;
    task_base* t = rt.inject.pop_batch(max, &n);
    if (!t)
        return nullptr;
    for (task_base* x = t->link_; x;) {
        task_base* nx = x->link_;
        if (!w.queue.push(x))
            rt.inject.push(x);
        x = nx;
    }
    return t;
}

// Steals half of some other worker's queue; returns one task, queues the rest locally.
task_base* steal_work(worker& w) noexcept {
    runtime_state& rt = *w.rt;
    unsigned n = rt.nworkers;
    if (n < 2)
        return nullptr;
    auto start = static_cast<unsigned>(next_rand(w) % n);
    for (unsigned i = 0; i < n; ++i) {
        worker& v = *rt.workers[(start + i) % n];
        if (&v == &w)
            continue;
        std::int64_t avail = v.queue.size();
        if (avail == 0)
            continue;
        task_base* first = v.queue.steal();
        if (!first)
            continue;
        for (std::int64_t k = (avail + 1) / 2 - 1; k > 0; --k) {
            task_base* x = v.queue.steal();
            if (!x)
                break;
            if (!w.queue.push(x)) {
                rt.inject.push(x);
                break;
            }
        }
        w.stat_steals.inc();
        return first;
    }
    return nullptr;
}

bool any_queue_nonempty(const runtime_state& rt) noexcept {
    for (const auto& v : rt.workers)
        if (v->queue.size() > 0)
            return true;
    return false;
}

// Leaves the idle set after a park (or an aborted park).
void unidle(worker& w) noexcept {
    runtime_state& rt = *w.rt;
    std::lock_guard lock(rt.idle_mu);
    if (w.in_idle) {
        auto it = std::find(rt.idle.begin(), rt.idle.end(), &w);
        if (it != rt.idle.end())
            rt.idle.erase(it);
        w.in_idle = false;
        rt.nidle.fetch_sub(1, std::memory_order_seq_cst);
    } else {
        // A waker took us out of the idle set and counted us as spinning.
        w.spinning = true;
    }
}

void park(worker& w) noexcept {
    runtime_state& rt = *w.rt;
    {
        std::lock_guard lock(rt.idle_mu);
        w.in_idle = true;
        rt.idle.push_back(&w);
        rt.nidle.fetch_add(1, std::memory_order_seq_cst);
    }
    // SCHED-2: the re-check after publishing ourselves idle.
    // io_cancels / ring_calls: a requester pushes, then posts a wake to our ring; if that wake
    // was reaped before we got here, the push is visible now.
    bool work = rt.stopping.load(std::memory_order_seq_cst) || rt.inject.size() > 0
        || any_queue_nonempty(rt) || w.next != nullptr
        || w.io_cancels.load(std::memory_order_seq_cst) != nullptr
        || w.ring_calls.load(std::memory_order_seq_cst) != nullptr;
    std::int64_t timeout = -1;
    if (!work && !w.timers.empty()) {
        timeout = w.timers.next_deadline() - now_ns();
        if (timeout <= 0)
            work = true;
    }
    if (!work) {
        w.state.store(worker_state::parked, std::memory_order_relaxed);
        w.stat_parks.inc();
        w.io.wait(timeout);
        w.state.store(worker_state::running, std::memory_order_relaxed);
    }
    unidle(w);
}

void stop_spinning(worker& w) noexcept {
    w.spinning = false;
    runtime_state& rt = *w.rt;
    if (rt.nspinning.fetch_sub(1, std::memory_order_seq_cst) == 1
        && (w.queue.size() > 0 || rt.inject.size() > 0))
        wake_one(rt, &w);
}

task_base* find_slow(worker& w) noexcept {
    runtime_state& rt = *w.rt;
    std::int64_t spin_deadline = 0;
    for (;;) {
        if (rt.stopping.load(std::memory_order_seq_cst))
            return nullptr;
        housekeeping(w);
        task_base* t = w.next;
        if (t)
            w.next = nullptr;
        if (!t)
            t = w.queue.pop();
        if (!t)
            t = take_inject(w, run_queue::capacity / 2);
        if (!t)
            t = steal_work(w);
        if (t) {
            if (w.spinning)
                stop_spinning(w);
            return t;
        }
        if (!w.spinning && rt.opts.spin.count() > 0) {
            int busy = static_cast<int>(rt.nworkers) - rt.nidle.load(std::memory_order_relaxed);
            if (2 * rt.nspinning.load(std::memory_order_relaxed) < busy) {
                w.spinning = true;
                rt.nspinning.fetch_add(1, std::memory_order_seq_cst);
            }
        }
        if (w.spinning) {
            std::int64_t now = now_ns();
            if (spin_deadline == 0)
                spin_deadline = now
                    + std::chrono::duration_cast<std::chrono::nanoseconds>(rt.opts.spin).count();
            if (now < spin_deadline) {
                w.state.store(worker_state::spinning, std::memory_order_relaxed);
                for (int i = 0; i < 16; ++i)
                    cpu_relax();
                continue;
            }
            // Give up searching; park() re-checks everything after publishing idle.
            w.spinning = false;
            rt.nspinning.fetch_sub(1, std::memory_order_seq_cst);
        }
        spin_deadline = 0;
        park(w);
    }
}

task_base* next_task(worker& w) noexcept {
    if (--w.until_fair == 0) {
        w.until_fair = fairness_interval;
        if (w.rt->stopping.load(std::memory_order_relaxed))
            return nullptr;
        housekeeping(w);
        if (task_base* t = take_inject(w, 1))
            return t;
        // The local queue is LIFO, so an old task could wait behind a stream of new ones.
        // Run the oldest one now and then — by time, not by count: popping the oldest task
        // of a fork-join tree opens a whole new subtree, and doing that every 61 ticks would
        // grow the queue without bound (skynet overflows it); once per millisecond bounds
        // both the wait and the growth.
        std::int64_t now = now_ns();
        if (now - w.last_fair_pop_ns >= fair_pop_interval_ns) {
            w.last_fair_pop_ns = now;
            if (task_base* t = w.queue.steal())
                return t;
        }
        // Work queued here while others idle (a missed unfenced notify): hand some out.
        if (w.queue.size() > 1)
            notify_local(w);
    }
#if GORUN_SHUFFLE
    if ((next_rand(w) & 15) == 0) {
        if (task_base* t = w.queue.steal())
            return t;
    }
#endif
    if (task_base* t = w.next) {
        w.next = nullptr;
        return t;
    }
    if (task_base* t = w.queue.pop())
        return t;
    return find_slow(w);
}

void worker_loop(worker& w) noexcept {
    w.state.store(worker_state::running, std::memory_order_relaxed);
    while (task_base* t = next_task(w)) {
        w.current = t;
        w.stat_run.inc();
        t->resume_.resume();
        w.current = nullptr;
    }
    if (w.spinning) {
        w.spinning = false;
        w.rt->nspinning.fetch_sub(1, std::memory_order_seq_cst);
    }
    // IO-2: only this thread may submit to the ring, so the ops in flight on it are cancelled
    // and reaped here, before shutdown destroys the frames they point into.
    io_drain(w);
    w.state.store(worker_state::stopped, std::memory_order_relaxed);
}

void request_stop(runtime_state& rt) noexcept {
    rt.stopping.store(true, std::memory_order_seq_cst);
    std::vector<worker*> sleepers;
    {
        std::lock_guard lock(rt.idle_mu);
        sleepers.swap(rt.idle);
        for (worker* v : sleepers) {
            v->in_idle = false;
            rt.nspinning.fetch_add(1, std::memory_order_seq_cst);  // unidle() counts it
        }
        rt.nidle.store(0, std::memory_order_seq_cst);
    }
    worker* self = tls_worker;
    for (worker* v : sleepers)
        send_wake(self && self->rt == &rt ? self : nullptr, *v);
}

std::uint64_t pick_seed(const runtime_options& opts) {
    if (opts.seed)
        return opts.seed;
    if (const char* env = std::getenv("GORUN_TEST_SEED")) {
        char* end = nullptr;
        unsigned long long v = std::strtoull(env, &end, 10);
        if (end != env && *end == '\0' && v != 0)
            return v;
    }
    static const std::uint64_t process_seed = [] {
        std::random_device rd;
        std::uint64_t s = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
        return s ? s : 1;
    }();
    return process_seed;
}

void announce_seed(std::uint64_t seed) {
#if GORUN_SHUFFLE
    static std::atomic<bool> printed{false};
    if (!printed.exchange(true))
        std::fprintf(
            stderr,
            "gorun: debug build, scheduling decisions shuffled with seed %llu "
            "(GORUN_TEST_SEED=%llu replays)\n",
            static_cast<unsigned long long>(seed),
            static_cast<unsigned long long>(seed));
#else
    (void)seed;
#endif
}

runtime_state* make_state(const runtime_options& opts, bool caller_is_worker0) {
    auto* rt = new runtime_state;
    rt->opts = opts;
    rt->nworkers = opts.workers ? opts.workers : default_worker_count();
    rt->caller_is_worker0 = caller_is_worker0;
    rt->seed = pick_seed(opts);
    rt->blocking.emplace(opts.blocking_threads, opts.blocking_idle);
    announce_seed(rt->seed);
    rt->workers.reserve(rt->nworkers);
    rt->idle.reserve(rt->nworkers);
    for (unsigned i = 0; i < rt->nworkers; ++i) {
        auto w = std::make_unique<worker>();
        w->rt = rt;
        w->index = i;
        w->rng = splitmix64(rt->seed + i) | 1;
        rt->workers.push_back(std::move(w));
    }
    std::lock_guard lock(registry_mu);
    registry.push_back(rt);
    return rt;
}

void thread_main(worker& w) noexcept {
    runtime_state& rt = *w.rt;
    int e = w.io.open(
        rt.opts.ring_entries, rt.opts.ring_flags, rt.opts.sq_thread_idle_ms, rt.opts.attach_wq_fd);
    if (e) {
        std::lock_guard lock(rt.setup_mu);
        if (!rt.setup_error)
            rt.setup_error = e;
    }
    rt.setup_done.fetch_add(1, std::memory_order_seq_cst);
    rt.setup_done.notify_all();
    int go;
    while ((go = rt.go_ahead.load(std::memory_order_acquire)) == 0)
        rt.go_ahead.wait(0, std::memory_order_acquire);
    if (go != 1)
        return;
    tls_worker = &w;
    worker_loop(w);
    tls_worker = nullptr;
}

// Frees everything; the workers must have been joined (or never started).
void destroy_state(runtime_state* rt) noexcept {
    {
        std::lock_guard lock(registry_mu);
        registry.erase(std::remove(registry.begin(), registry.end(), rt), registry.end());
    }
    delete rt;
}

// Joins the workers and destroys every task that is left (SCHED-1, IO-2).
void shutdown(runtime_state* rt) noexcept {
    {
        // Out of the registry first: dumps from other threads must not see it half torn down.
        std::lock_guard lock(registry_mu);
        registry.erase(std::remove(registry.begin(), registry.end(), rt), registry.end());
    }
    request_stop(*rt);
    for (auto& w : rt->workers)
        if (w->thread.joinable())
            w->thread.join();
    rt->dead.store(true, std::memory_order_seq_cst);
    // Running blocking calls may refer to frames and end with ready(): wait for them before
    // the queues are dropped and the frames destroyed; queued ones are dropped.
    rt->blocking->shutdown();
    for (auto& w : rt->workers) {
        while (w->queue.pop()) {
        }
        w->next = nullptr;
        w->timers.clear();
    }
    std::size_t n;
    while (rt->inject.pop_batch(SIZE_MAX, &n)) {
    }
    for (auto& w : rt->workers)
        drain_remote_frees(*w);
    destroy_all_roots(*rt);
    for (auto& w : rt->workers)
        w->io.close();
    delete rt;
}

// Starts the workers; returns 0 or the first -errno of a ring set-up.
int start_workers(runtime_state* rt) {
    unsigned first = 0;
    if (rt->caller_is_worker0) {
        int e = rt->workers[0]->io.open(
            rt->opts.ring_entries,
            rt->opts.ring_flags,
            rt->opts.sq_thread_idle_ms,
            rt->opts.attach_wq_fd);
        if (e)
            return e;
        first = 1;
    }
    unsigned expected = rt->nworkers - first;
    for (unsigned i = first; i < rt->nworkers; ++i) {
        worker* w = rt->workers[i].get();
        w->thread = std::thread([w] { thread_main(*w); });
    }
    unsigned done;
    while ((done = rt->setup_done.load(std::memory_order_seq_cst)) < expected)
        rt->setup_done.wait(done, std::memory_order_seq_cst);
    int err;
    {
        std::lock_guard lock(rt->setup_mu);
        err = rt->setup_error;
    }
    rt->go_ahead.store(err ? 2 : 1, std::memory_order_release);
    rt->go_ahead.notify_all();
    if (err) {
        for (auto& w : rt->workers)
            if (w->thread.joinable())
                w->thread.join();
    }
    return err;
}

[[noreturn]] void throw_setup(int err, const runtime_options& opts) {
    std::string msg = describe_setup_error(err, opts.ring_entries);
    if (opts.ring_flags != 0 || opts.attach_wq_fd >= 0)
        msg += fmt::format(
            "; the set-up options may be the cause: runtime_options::ring_flags {:#x}, "
            "attach_wq_fd {} (try without them)",
            opts.ring_flags,
            opts.attach_wq_fd);
    throw setup_error(-err, msg);
}

}  // namespace

void wake_worker(worker& to) noexcept {
    worker* self = tls_worker;
    send_wake(
        self && self->rt == to.rt
                && self->state.load(std::memory_order_relaxed) != worker_state::stopped
            ? self
            : nullptr,
        to);
}

// ---- entry points declared in gorun headers ----

runtime_state* current_runtime() noexcept {
    return tls_worker ? tls_worker->rt : nullptr;
}

task_base* current_task() noexcept {
    return tls_worker ? tls_worker->current : nullptr;
}

const task_context* current_context() noexcept {
    task_base* t = current_task();
    return t ? t->ctx_ : nullptr;
}

task_base* park_current(std::coroutine_handle<> h) noexcept {
    worker* w = tls_worker;
    if (!w || !w->current) [[unlikely]]
        fatal("a gorun awaitable suspended outside a gorun task (use it inside a task run by "
              "gorun::run, go, spawn or runtime::post)");
    w->current->resume_ = h;
    return w->current;
}

void ready(task_base* t) noexcept {
    worker* w = tls_worker;
    if (w && w->rt == t->rt_) {
#if GORUN_SHUFFLE
        if (next_rand(*w) & 1) {
            push_local(*w, t);
            return;
        }
#endif
        if (w->next)
            push_local(*w, w->next);
        w->next = t;
        return;
    }
    runtime_state* rt = t->rt_;
    if (rt->dead.load(std::memory_order_relaxed))
        return;  // shutdown: the task's frame is about to be destroyed; nothing runs again
    inject_and_wake(*rt, t);
}

void start_root(
    runtime_state* rt,
    task_base& t,
    std::coroutine_handle<> h,
    const std::source_location& site,
    const task_context* ctx) noexcept {
    t.resume_ = h;
    t.site_ = site;
    t.ctx_ = ctx;
    worker* w = tls_worker;
    if (w && (!rt || rt == w->rt)) {
        t.rt_ = w->rt;
        t.id_ = take_id(*w);
        link_root(w->rt, w, h.address(), &t);
        w->stat_spawned.inc();
        push_local(*w, &t);
        return;
    }
    if (!rt)
        fatal("gorun::go/spawn called outside a gorun task; from other threads use "
              "gorun::runtime::post or gorun::runtime::spawn");
    t.rt_ = rt;
    t.id_ = rt->next_id.fetch_add(1, std::memory_order_relaxed);
    link_root(rt, nullptr, h.address(), &t);
    inject_and_wake(*rt, &t);
}

void finish_main(task_base& t) noexcept {
    main_waiter* mw = t.main_;
    if (mw->stop_runtime) {
        request_stop(*t.rt_);
        return;
    }
    std::lock_guard lock(mw->mu);
    mw->done = true;
    mw->cv.notify_one();
}

void yield_current(std::coroutine_handle<> h) noexcept {
    task_base* t = park_current(h);
    t->rt_->inject.push(t);
}

std::uint64_t fast_rand() noexcept {
    if (worker* w = tls_worker)
        return next_rand(*w);
    static thread_local std::uint64_t state =
        splitmix64(reinterpret_cast<std::uintptr_t>(&state) ^ static_cast<std::uint64_t>(now_ns()));
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 0x2545f4914f6cdd1dULL;
}

std::int64_t now_ns() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

namespace {
void fire_wake(timer_node* n) noexcept {
    push_local(*tls_worker, n->task);
}
}  // namespace

void sleep_on_current_worker(timer_node& node, std::coroutine_handle<> h) noexcept {
    worker& w = *tls_worker;
    node.task = park_current(h);
    node.fire = &fire_wake;
    w.timers.add(&node);
    w.stat_timers.store(w.timers.size(), std::memory_order_relaxed);
}

bool timer_arm(timer_node& node) noexcept {
    worker* w = tls_worker;
    if (!w)
        return false;
    w->timers.add(&node);
    w->stat_timers.store(w->timers.size(), std::memory_order_relaxed);
    return true;
}

bool timer_cancel(timer_node& node) noexcept {
    if (!node.armed)
        return false;
    worker* w = tls_worker;
    if (!w)
        fatal("timer_cancel called off the worker that armed the timer");
    w->timers.remove(&node);
    w->stat_timers.store(w->timers.size(), std::memory_order_relaxed);
    return true;
}

void run_main(promise_base& main, std::coroutine_handle<> h, const runtime_options& opts) {
    if (tls_worker)
        fatal("gorun::run called from inside a gorun task (nesting runtimes on one thread is "
              "not supported; start a gorun::runtime on another thread instead)");
    runtime_state* rt = make_state(opts, true);
    if (int e = start_workers(rt)) {
        rt->workers[0]->io.close();
        destroy_state(rt);
        throw_setup(e, opts);
    }
    worker& w0 = *rt->workers[0];
    main_waiter mw;
    mw.stop_runtime = true;
    main.join_.store(join_main, std::memory_order_relaxed);
    main.main_ = &mw;
    main.rt_ = rt;
    main.resume_ = h;
    main.site_ = {};
    main.ctx_ = nullptr;
    main.id_ = take_id(w0);
    tls_worker = &w0;
    push_local(w0, &main);
    worker_loop(w0);
    tls_worker = nullptr;
    shutdown(rt);
}

runtime_state* runtime_create(const runtime_options& opts) {
    runtime_state* rt = make_state(opts, false);
    if (int e = start_workers(rt)) {
        destroy_state(rt);
        throw_setup(e, opts);
    }
    return rt;
}

void runtime_destroy(runtime_state* rt) noexcept {
    if (tls_worker && tls_worker->rt == rt)
        fatal("a gorun::runtime was destroyed on one of its own workers");
    shutdown(rt);
}

unsigned runtime_workers(const runtime_state* rt) noexcept {
    return rt->nworkers;
}

void runtime_block_on(runtime_state* rt, promise_base& main, std::coroutine_handle<> h) {
    if (tls_worker && tls_worker->rt == rt)
        fatal("runtime::block_on called on one of the runtime's own workers (it would block "
              "the worker); co_await the task instead");
    main_waiter mw;
    main.join_.store(join_main, std::memory_order_relaxed);
    main.main_ = &mw;
    main.rt_ = rt;
    main.resume_ = h;
    main.site_ = {};
    main.ctx_ = nullptr;
    main.id_ = rt->next_id.fetch_add(1, std::memory_order_relaxed);
    inject_and_wake(*rt, &main);
    std::unique_lock lock(mw.mu);
    mw.cv.wait(lock, [&] { return mw.done; });
}

void runtime_dump(const runtime_state* rt, std::FILE* out, bool io_ops) noexcept {
    const char* names[] = {"starting", "running", "spinning", "parked", "stopped"};
    fmt::print(
        out,
        "gorun runtime {}: {} workers, global queue {}, idle {}, spinning {}, stopping {}, "
        "seed {}\n",
        static_cast<const void*>(rt),
        rt->nworkers,
        rt->inject.size(),
        rt->nidle.load(),
        rt->nspinning.load(),
        rt->stopping.load(),
        rt->seed);
    for (const auto& w : rt->workers) {
        fmt::print(
            out,
            "  worker {}: {:<8} queue {} timers {} | spawned {} finished {} ran {} steals {} "
            "parks {} wakes sent {} timers fired {} | ring {} ops {} pending {} enters {} "
            "overflows {}\n",
            w->index,
            names[static_cast<int>(w->state.load(std::memory_order_relaxed))],
            w->queue.size(),
            w->stat_timers.load(std::memory_order_relaxed),
            w->stat_spawned.get(),
            w->stat_finished.get(),
            w->stat_run.get(),
            w->stat_steals.get(),
            w->stat_parks.get(),
            w->stat_wakes_sent.get(),
            w->stat_timers_fired.get(),
            w->io.is_open() ? w->io.mode() : "closed",
            w->stat_io_ops.get(),
            w->stat_io_pending.get(),
            w->io.enters(),
            w->io.cq_overflows());
        io_dump(*w, out, io_ops);
    }
    std::fflush(out);
}

runtime_metrics collect_metrics(const runtime_state& rt) noexcept {
    runtime_metrics m;
    m.workers = rt.nworkers;
    for (const auto& w : rt.workers) {
        m.tasks_spawned += w->stat_spawned.get();
        m.tasks_finished += w->stat_finished.get();
        m.tasks_run += w->stat_run.get();
        m.steals += w->stat_steals.get();
        m.parks += w->stat_parks.get();
        m.wakes_sent += w->stat_wakes_sent.get();
        m.timers_fired += w->stat_timers_fired.get();
        m.timers_pending += w->stat_timers.load(std::memory_order_relaxed);
        m.frames_from_malloc += w->stat_frame_mallocs.get();
        m.io_ops += w->stat_io_ops.get();
        m.io_pending += w->stat_io_pending.get();
        m.io_cancels += w->stat_io_cancels.get();
        m.io_enters += w->io.enters();
        m.io_sqes += w->io.sqes_submitted();
        m.io_cqes += w->io.cqes_reaped();
        m.io_cq_overflows += w->io.cq_overflows();
    }
    m.global_queue = rt.inject.size();
    auto b = rt.blocking->snapshot();
    m.blocking_threads = b.threads;
    m.blocking_threads_peak = b.peak;
    m.blocking_calls = b.jobs_done;
    m.blocking_queued = b.queued;
    return m;
}

runtime_metrics runtime_metrics_of(const runtime_state* rt) noexcept {
    return collect_metrics(*rt);
}

}  // namespace gorun::detail

namespace gorun {

runtime_metrics metrics() noexcept {
    detail::runtime_state* rt = detail::current_runtime();
    return rt ? detail::collect_metrics(*rt) : runtime_metrics{};
}

void dump_all_runtimes(std::FILE* out, bool io_ops) noexcept {
    std::lock_guard lock(detail::registry_mu);
    if (detail::registry.empty())
        std::fprintf(out, "gorun: no live runtime\n");
    for (auto* rt : detail::registry)
        detail::runtime_dump(rt, out, io_ops);
}

std::uint64_t this_task::id() noexcept {
    detail::task_base* t = detail::current_task();
    return t ? t->id_ : 0;
}

const char* this_task::name() noexcept {
    detail::task_base* t = detail::current_task();
    return t ? t->name_ : nullptr;
}

void this_task::set_name(const char* name) noexcept {
    if (detail::task_base* t = detail::current_task())
        t->name_ = name;
}

std::stop_token this_task::stop_token() noexcept {
    const detail::task_context* c = detail::current_context();
    return c ? c->token : std::stop_token{};
}

bool this_task::stop_requested() noexcept {
    const detail::task_context* c = detail::current_context();
    return c && c->token.stop_requested();
}

std::optional<std::chrono::steady_clock::time_point> this_task::deadline() noexcept {
    const detail::task_context* c = detail::current_context();
    if (!c || c->deadline_ns == std::numeric_limits<std::int64_t>::max())
        return std::nullopt;
    return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(c->deadline_ns));
}

}  // namespace gorun
