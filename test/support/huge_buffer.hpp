// A buffer of any size that costs no memory until touched: anonymous, MAP_NORESERVE pages
// (tests of 4 GiB spans, io/op_len.hpp).
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <span>

namespace gorun::test {

struct huge_buffer {
    explicit huge_buffer(std::size_t len)
        : len(len)
        , p(::mmap(
              nullptr,
              len,
              PROT_READ | PROT_WRITE,
              MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
              -1,
              0)) {}
    huge_buffer(const huge_buffer&) = delete;
    huge_buffer& operator=(const huge_buffer&) = delete;
    ~huge_buffer() {
        if (p != MAP_FAILED)
            ::munmap(p, len);
    }
    std::span<std::byte> span() const { return {static_cast<std::byte*>(p), len}; }
    std::size_t len;
    void* p;
};

}  // namespace gorun::test
