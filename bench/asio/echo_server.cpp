// asio_echo_server: the Asio peer of gorun's samples/echo_server. A TCP echo server on
// 127.0.0.1, one C++20 coroutine per connection (asio::awaitable, co_spawn, use_awaitable), each
// a read_some / write-all loop over a 16 KiB buffer, TCP_NODELAY set. Threads, accept and
// shutdown: server_main.hpp.
//
// Usage: asio_echo_server [--port N] [--workers N]
#include "server_main.hpp"

#include <array>

namespace {

asio::awaitable<void> echo(peer::tcp::socket s) {
    std::array<char, 16 * 1024> buf;
    asio::error_code ec;
    for (;;) {
        std::size_t n = co_await s.async_read_some(
            asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
        if (ec)
            co_return;  // eof when the peer is done, or a reset
        co_await asio::async_write(
            s, asio::buffer(buf.data(), n), asio::redirect_error(asio::use_awaitable, ec));
        if (ec)
            co_return;
    }
}

}  // namespace

int main(int argc, char** argv) {
    return peer::server_main("asio_echo_server", argc, argv, echo);
}
