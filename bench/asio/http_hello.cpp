// asio_http_hello: the Asio peer of gorun's samples/http_hello. Keep-alive HTTP/1.1 on 127.0.0.1,
// one C++20 coroutine per connection; every request gets the same fixed "Hello, World!" response
// (byte for byte the one bench/go/http_hello_raw sends; see bench/README.md).
//
// A request is everything up to and including the first empty line (a GET with no body; headers
// are not interpreted). Each read appends to an 8 KiB buffer; the responses to every complete
// request in it are gathered and written with one write, in order (pipelining); a partial
// request is moved to the front and completed by the next read. A request that does not fit the
// buffer closes the connection. Threads, accept and shutdown: server_main.hpp.
//
// Usage: asio_http_hello [--port N] [--workers N]
#include "server_main.hpp"

#include <string>
#include <string_view>

namespace {

constexpr std::string_view response =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!";

asio::awaitable<void> serve(peer::tcp::socket s) {
    constexpr std::size_t cap = 8 * 1024;
    char in[cap];
    std::size_t have = 0;  // bytes in `in`
    std::size_t scan = 0;  // where the search for the next "\r\n\r\n" resumes
    std::string out;
    out.reserve(16 * response.size());
    asio::error_code ec;
    for (;;) {
        if (have == cap)
            co_return;  // a request larger than the buffer
        std::size_t n = co_await s.async_read_some(
            asio::buffer(in + have, cap - have), asio::redirect_error(asio::use_awaitable, ec));
        if (ec)
            co_return;
        have += n;
        std::size_t start = 0;  // first byte of the first request not yet answered
        for (;;) {
            std::size_t from = std::max(scan, start);
            // Back up 3 bytes so a "\r\n\r\n" split across reads is found.
            from = from >= start + 3 ? from - 3 : start;
            const void* hit = memmem(in + from, have - from, "\r\n\r\n", 4);
            if (hit == nullptr) {
                scan = have;
                break;
            }
            start = static_cast<std::size_t>(static_cast<const char*>(hit) - in) + 4;
            scan = start;
            out.append(response);
        }
        if (start > 0) {
            std::memmove(in, in + start, have - start);
            have -= start;
            scan -= start;
        }
        if (!out.empty()) {
            co_await asio::async_write(
                s, asio::buffer(out), asio::redirect_error(asio::use_awaitable, ec));
            if (ec)
                co_return;
            out.clear();
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    return peer::server_main("asio_http_hello", argc, argv, serve);
}
