// cat: copies a file through the worker's io_uring, reading the next chunk while the previous
// one is being written (when_all of a read and a write).
//
//     cat SRC DST        copy SRC to DST (created or truncated)
//     cat --test         copy a generated 8 MiB file in a temporary directory and compare
//
// Every read and write is an io_uring op; short reads and writes are handled (write_all_at
// loops), and the first error is reported with the file it concerns.
#include <gorun/gorun.hpp>

#include <fmt/format.h>

#include <array>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr std::size_t chunk = 256 * 1024;

gorun::task<gorun::io_result<std::size_t>>
read_chunk(const gorun::file* f, std::vector<std::byte>* buf, std::uint64_t at) {
    co_return co_await f->read_at(std::span(*buf), at);
}

gorun::task<gorun::io_result<void>> write_chunk(
    const gorun::file* f, const std::vector<std::byte>* buf, std::size_t n, std::uint64_t at) {
    if (n == 0)
        co_return gorun::io_result<void>{};
    co_return co_await f->write_all_at(std::span(buf->data(), n), at);
}

// Copies src to dst; returns the bytes copied, or the first error (with its file in `what`).
gorun::task<gorun::io_result<std::uint64_t>>
copy(std::string src, std::string dst, std::string* what) {
    auto in = co_await gorun::file::open(src);
    if (!in) {
        *what = src;
        co_return in.error();
    }
    auto out = co_await gorun::file::create(dst);
    if (!out) {
        *what = dst;
        co_return out.error();
    }
    std::array<std::vector<std::byte>, 2> bufs{
        std::vector<std::byte>(chunk), std::vector<std::byte>(chunk)};
    std::uint64_t pos = 0;
    std::size_t pending = 0;  // bytes of bufs[1 - cur] read and not yet written
    int cur = 0;
    for (;;) {
        // Read into bufs[cur] while bufs[1 - cur] (the previous chunk) is written.
        auto [r, w] = co_await gorun::when_all(
            read_chunk(&*in, &bufs[cur], pos + pending),
            write_chunk(&*out, &bufs[1 - cur], pending, pos));
        if (!w) {
            *what = dst;
            co_return w.error();
        }
        if (!r) {
            *what = src;
            co_return r.error();
        }
        pos += pending;
        pending = *r;
        cur = 1 - cur;
        if (pending == 0)
            break;  // end of file, and everything before it written
    }
    if (auto s = co_await out->sync(); !s) {
        *what = dst;
        co_return s.error();
    }
    co_return pos;
}

gorun::task<int> self_test() {
    char dir_template[] = "/tmp/gorun-cat-XXXXXX";
    if (!::mkdtemp(dir_template)) {
        fmt::print(stderr, "cat: mkdtemp failed\n");
        co_return 1;
    }
    std::string dir = dir_template;
    std::string data(8 * 1024 * 1024 + 123, '\0');  // not a multiple of the chunk
    std::mt19937_64 rng(42);
    for (auto& c : data)
        c = static_cast<char>(rng());
    (co_await gorun::write_file(dir + "/src", data)).value();
    std::string what;
    auto n = co_await copy(dir + "/src", dir + "/dst", &what);
    auto back = co_await gorun::read_file(dir + "/dst");
    auto missing = co_await copy(dir + "/no-such-file", dir + "/x", &what);
    std::remove((dir + "/src").c_str());
    std::remove((dir + "/dst").c_str());
    std::remove(dir.c_str());
    bool ok = n && *n == data.size() && back && *back == data && !missing
        && missing.error() == std::errc::no_such_file_or_directory;
    fmt::print("cat --test: copied {} bytes: {}\n", n ? *n : 0, ok ? "identical" : "MISMATCH");
    co_return ok ? 0 : 1;
}

gorun::task<int> main_task(std::string src, std::string dst) {
    std::string what;
    auto n = co_await copy(src, dst, &what);
    if (!n) {
        fmt::print(stderr, "cat: {}: {}\n", what, n.error().message());
        co_return 1;
    }
    co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        if (argc == 2 && std::string_view(argv[1]) == "--test")
            return gorun::run(self_test());
        if (argc == 3)
            return gorun::run(main_task(argv[1], argv[2]));
        fmt::print(stderr, "usage: cat SRC DST | cat --test\n");
        return 2;
    } catch (const gorun::setup_error& e) {
        fmt::print(stderr, "cat: {}\n", e.what());
        return 77;
    }
}
