// Work on every worker's ring: uring::on_every_ring (the per-worker call stacks), the
// all-or-nothing registration of fixed files and buffers, and buffer_ring (provided buffers).
//
// Design
// - Rings are SINGLE_ISSUER: io_uring_register on a ring from any thread but its owner fails
//   with -EEXIST. So a registration becomes one call per worker, pushed onto the worker's MPSC
//   `ring_calls` stack (the io_cancels pattern: CAS push, seq_cst, pairing with the owner's
//   exchange; a wake when the stack was empty; the park re-check looks at it, SCHED-2). The
//   worker runs its calls in housekeeping and counts the batch's `remaining` down (acq_rel);
//   the one that reaches zero makes the task runnable. The requester touches nothing of the
//   batch after its last push (the batch may complete at once).
// - Registration is all or nothing: if a worker's ring refuses, the rings that accepted are
//   unregistered again and the error returned, so every ring always has the same table (a
//   task may use a fixed index on whatever worker it runs).
// - buffer_ring: one buffer ring per worker ring under the same group id (a group is per
//   ring). The ring and its buffers are anonymous mmaps owned here. The kernel consumes
//   entries from the head; we add them at the tail. recycle() may run on any thread (the task
//   reading a stream may have migrated), so each ring's tail is guarded by a spin lock; the
//   tail store is liburing's release store, which the kernel's acquire load pairs with.
//
// Rejected: submitting IORING_OP_FILES_UPDATE on each ring (needs the same per-worker hop and
// does not cover buffers); liburing's io_uring_setup_buf_ring (2.4+; Debian 12 has 2.3).
#include <gorun/uring.hpp>

#include <gorun/detail/fatal.hpp>
#include <gorun/detail/spin_lock.hpp>

#include "io/op.hpp"
#include "runtime_state.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <system_error>

namespace gorun::detail {

unsigned ring_call_workers() noexcept {
    worker* w = tls_worker;
    if (!w || !w->current) [[unlikely]]
        fatal("gorun::uring::on_every_ring was awaited outside a gorun task");
    return w->rt->nworkers;
}

void ring_call_start(ring_call_batch& b, std::coroutine_handle<> h) noexcept {
    worker* self = tls_worker;
    runtime_state& rt = *self->rt;
    b.task = park_current(h);
    unsigned n = rt.nworkers;
    ring_call* calls = b.calls.data();
    // Published by the seq_cst pushes below; read by the workers' fetch_sub.
    b.remaining.store(n, std::memory_order_relaxed);
    for (unsigned i = 0; i < n; ++i) {
        calls[i].batch = &b;
        worker& w = *rt.workers[i];
        ring_call* head = w.ring_calls.load(std::memory_order_relaxed);
        do {
            calls[i].next = head;
        } while (!w.ring_calls.compare_exchange_weak(
            head, &calls[i], std::memory_order_seq_cst, std::memory_order_relaxed));
        // After the last push the batch may complete and the task run: only `w` is used below.
        if (!head && &w != self)
            wake_worker(w);  // the stack was empty: the owner may be parked
    }
}

void run_ring_calls(worker& w) noexcept {
    if (!w.ring_calls.load(std::memory_order_relaxed))
        return;
    ring_call* c = w.ring_calls.exchange(nullptr, std::memory_order_seq_cst);
    while (c) {
        ring_call* next = c->next;  // read first: the batch may complete below
        ring_call_batch* b = c->batch;
        try {
            c->res = b->fn(b->ctx, w.io.raw(), w.index);
        } catch (...) {
            c->error = std::current_exception();
        }
        if (b->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1)
            ready(b->task);
        c = next;
    }
}

}  // namespace gorun::detail

namespace gorun::uring {

namespace {

std::error_code errno_code(int e) noexcept {
    return {e, std::generic_category()};
}

// The first failure in worker order (a -errno), or 0.
int first_error(const std::vector<int>& res) noexcept {
    for (int r : res)
        if (r < 0)
            return r;
    return 0;
}

// All or nothing: when some worker failed, runs `undo` on the rings that succeeded.
task<io_result<void>> all_or_undo(std::vector<int> res, int (*undo)(io_uring*)) {
    int err = first_error(res);
    if (err == 0)
        co_return io_result<void>{};
    (void)co_await on_every_ring(
        [&](io_uring* r, unsigned i) { return res[i] >= 0 ? undo(r) : 0; });
    co_return errno_code(-err);
}

task<io_result<void>> on_all(int (*fn)(io_uring*)) {
    auto res = co_await on_every_ring([fn](io_uring* r) { return fn(r); });
    if (int err = first_error(res))
        co_return errno_code(-err);
    co_return io_result<void>{};
}

}  // namespace

task<io_result<void>> register_files(std::span<const int> fds) {
    auto res = co_await on_every_ring([&](io_uring* r) {
        return io_uring_register_files(r, fds.data(), static_cast<unsigned>(fds.size()));
    });
    co_return co_await all_or_undo(std::move(res), &io_uring_unregister_files);
}

task<io_result<void>> unregister_files() {
    return on_all(&io_uring_unregister_files);
}

task<io_result<void>> register_buffers(std::span<const iovec> buffers) {
    auto res = co_await on_every_ring([&](io_uring* r) {
        return io_uring_register_buffers(r, buffers.data(), static_cast<unsigned>(buffers.size()));
    });
    co_return co_await all_or_undo(std::move(res), &io_uring_unregister_buffers);
}

task<io_result<void>> unregister_buffers() {
    return on_all(&io_uring_unregister_buffers);
}

}  // namespace gorun::uring

// ---- buffer_ring ----

namespace gorun::detail {

struct buffer_ring_state {
    struct per_ring {
        io_uring_buf_ring* br = nullptr;
        std::size_t br_bytes = 0;
        std::byte* data = nullptr;
        std::size_t data_bytes = 0;
        spin_lock lock;  // guards the tail (recycle from any thread)
        bool registered = false;
    };
    std::uint16_t group = 0;
    unsigned entries = 0;
    std::size_t size = 0;
    runtime_state* rt = nullptr;
    unsigned nrings = 0;
    std::unique_ptr<per_ring[]> rings;

    bool any_registered() const noexcept {
        for (unsigned i = 0; i < nrings; ++i)
            if (rings[i].registered)
                return true;
        return false;
    }
    void free_memory() noexcept {
        for (unsigned i = 0; i < nrings; ++i) {
            per_ring& p = rings[i];
            if (p.br)
                ::munmap(p.br, p.br_bytes);
            if (p.data)
                ::munmap(p.data, p.data_bytes);
            p.br = nullptr;
            p.data = nullptr;
        }
    }
    ~buffer_ring_state() {
        // The kernel may write into a registered group's buffers (a recv picking one) until it
        // is unregistered; at shutdown every op has been reaped (IO-2) and the rings close next.
        if (any_registered() && !rt->dead.load(std::memory_order_seq_cst))
            fatal("gorun: a uring::buffer_ring was destroyed while still registered on the "
                  "worker rings; co_await its close() first");
        free_memory();
    }
};

}  // namespace gorun::detail

namespace gorun::uring {

buffer_ring::buffer_ring() noexcept = default;
buffer_ring::buffer_ring(std::unique_ptr<detail::buffer_ring_state> s) noexcept
    : s_(std::move(s)) {
}
buffer_ring::buffer_ring(buffer_ring&&) noexcept = default;
buffer_ring& buffer_ring::operator=(buffer_ring&&) noexcept = default;
buffer_ring::~buffer_ring() = default;

std::uint16_t buffer_ring::group() const noexcept {
    return s_ ? s_->group : 0;
}
std::size_t buffer_ring::buffer_size() const noexcept {
    return s_ ? s_->size : 0;
}
bool buffer_ring::is_registered() const noexcept {
    return s_ && s_->any_registered();
}

task<io_result<buffer_ring>>
buffer_ring::create(std::uint16_t group, unsigned entries, std::size_t buffer_size) {
    if (entries == 0 || entries > 32768 || (entries & (entries - 1)) != 0 || buffer_size == 0
        || buffer_size > 0xffffffffu)
        co_return errno_code(EINVAL);
    auto st = std::make_unique<detail::buffer_ring_state>();
    st->group = group;
    st->entries = entries;
    st->size = buffer_size;
    st->rt = detail::current_runtime();
    unsigned nrings = detail::ring_call_workers();
    st->rings = std::make_unique<detail::buffer_ring_state::per_ring[]>(nrings);
    // Only once the array exists: if allocating it throws, ~buffer_ring_state walks `nrings`
    // entries of `rings` while unwinding.
    st->nrings = nrings;
    auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    for (unsigned i = 0; i < st->nrings; ++i) {
        auto& p = st->rings[i];
        p.br_bytes = (entries * sizeof(io_uring_buf) + page - 1) / page * page;
        p.data_bytes = (entries * buffer_size + page - 1) / page * page;
        void* br =
            ::mmap(nullptr, p.br_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (br == MAP_FAILED)
            co_return errno_code(ENOMEM);
        p.br = static_cast<io_uring_buf_ring*>(br);
        void* data = ::mmap(
            nullptr, p.data_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (data == MAP_FAILED)
            co_return errno_code(ENOMEM);
        p.data = static_cast<std::byte*>(data);
        io_uring_buf_ring_init(p.br);
        int mask = io_uring_buf_ring_mask(entries);
        for (unsigned b = 0; b < entries; ++b)
            io_uring_buf_ring_add(
                p.br,
                p.data + b * buffer_size,
                static_cast<unsigned>(buffer_size),
                static_cast<unsigned short>(b),
                mask,
                static_cast<int>(b));
        io_uring_buf_ring_advance(p.br, static_cast<int>(entries));
    }
    detail::buffer_ring_state* raw = st.get();
    auto res = co_await on_every_ring([raw](io_uring* r, unsigned i) {
        io_uring_buf_reg reg{};
        reg.ring_addr = reinterpret_cast<std::uintptr_t>(raw->rings[i].br);
        reg.ring_entries = raw->entries;
        reg.bgid = raw->group;
        int e = io_uring_register_buf_ring(r, &reg, 0);
        raw->rings[i].registered = e == 0;  // this worker's own slot; read after the batch
        return e;
    });
    if (int err = first_error(res)) {
        (void)co_await on_every_ring([raw](io_uring* r, unsigned i) {
            if (!raw->rings[i].registered)
                return 0;
            raw->rings[i].registered = false;
            return io_uring_unregister_buf_ring(r, raw->group);
        });
        co_return errno_code(-err);
    }
    co_return buffer_ring(std::move(st));
}

std::span<std::byte> buffer_ring::data(unsigned ring_index, completion c) const noexcept {
    if (!s_ || ring_index >= s_->nrings || !(c.flags & IORING_CQE_F_BUFFER) || c.res <= 0)
        return {};
    unsigned bid = c.flags >> IORING_CQE_BUFFER_SHIFT;
    if (bid >= s_->entries)
        return {};
    std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(c.res), s_->size);
    return {s_->rings[ring_index].data + bid * s_->size, n};
}

void buffer_ring::recycle(unsigned ring_index, completion c) noexcept {
    if (!s_ || ring_index >= s_->nrings || !(c.flags & IORING_CQE_F_BUFFER))
        return;
    unsigned bid = c.flags >> IORING_CQE_BUFFER_SHIFT;
    if (bid >= s_->entries)
        return;
    auto& p = s_->rings[ring_index];
    std::lock_guard g(p.lock);
    io_uring_buf_ring_add(
        p.br,
        p.data + bid * s_->size,
        static_cast<unsigned>(s_->size),
        static_cast<unsigned short>(bid),
        io_uring_buf_ring_mask(s_->entries),
        0);
    io_uring_buf_ring_advance(p.br, 1);
}

task<> buffer_ring::close_stream(multishot& stream) {
    co_await stream.close();
    // Only completions holding a buffer are left (multishot::close() keeps them), then the end.
    while (auto c = co_await stream.next())
        recycle(stream, *c);
}

task<io_result<void>> buffer_ring::close() {
    if (!s_)
        co_return errno_code(EBADF);
    detail::buffer_ring_state* raw = s_.get();
    auto res = co_await on_every_ring([raw](io_uring* r, unsigned i) {
        if (!raw->rings[i].registered)
            return 0;
        raw->rings[i].registered = false;
        return io_uring_unregister_buf_ring(r, raw->group);
    });
    s_.reset();  // frees the memory
    if (int err = first_error(res))
        co_return errno_code(-err);
    co_return io_result<void>{};
}

}  // namespace gorun::uring
