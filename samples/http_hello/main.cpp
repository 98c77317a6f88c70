// http_hello: keep-alive HTTP/1.1 answering every request with a fixed "Hello, World!".
//
//     http_hello [--port N] [--workers N] [--test]
//
// Pipelined requests are answered in order, and all the answers to the requests that arrived
// together go back in one write. A request with a Content-Length has its body skipped; one
// with "Connection: close" is answered, then the connection closes. Command line, shutdown and
// --test as echo_server (samples/common/server.hpp); the --test client sends pipelined
// batches on 8 connections and checks every response byte.
#include "../common/server.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <string>
#include <string_view>

namespace {

constexpr std::string_view response =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!";
constexpr std::size_t max_header = 16 * 1024;

bool iequals_prefix(std::string_view line, std::string_view name) {
    return line.size() >= name.size()
        && std::equal(name.begin(), name.end(), line.begin(), [](char lower, char c) {
               return std::tolower(static_cast<unsigned char>(c)) == lower;
           });
}

// One request's head (up to and excluding the blank line): its body length and whether it
// asks to close.
struct head {
    std::size_t body = 0;
    bool close = false;
    bool bad = false;
};

head parse_head(std::string_view h) {
    head out;
    while (!h.empty()) {
        auto eol = h.find("\r\n");
        std::string_view line = h.substr(0, eol);
        h = eol == std::string_view::npos ? std::string_view{} : h.substr(eol + 2);
        if (iequals_prefix(line, "content-length:")) {
            auto v = line.substr(15);
            while (!v.empty() && v.front() == ' ')
                v.remove_prefix(1);
            auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out.body);
            out.bad = ec != std::errc{};
        } else if (iequals_prefix(line, "connection:")) {
            std::string v(line.substr(11));
            for (auto& ch : v)
                ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            out.close = v.find("close") != std::string::npos;
        }
    }
    return out;
}

gorun::task<> serve(sample::tcp_stream c) {
    auto stop = gorun::this_task::stop_token();
    std::string in;   // bytes received and not yet consumed
    std::string out;  // the answers to send
    std::array<char, 4096> buf;
    bool closing = false;
    while (!closing) {
        auto n = co_await c.read(buf, stop);
        if (!n || *n == 0)
            co_return;
        in.append(buf.data(), *n);
        std::size_t pos = 0;
        for (;;) {
            auto end = in.find("\r\n\r\n", pos);
            if (end == std::string::npos)
                break;
            head h = parse_head(std::string_view(in).substr(pos, end - pos));
            if (h.bad)
                co_return;
            std::size_t next = end + 4 + h.body;
            if (next > in.size())
                break;  // the body is still coming
            out += response;
            pos = next;
            if (h.close) {
                closing = true;
                break;
            }
        }
        in.erase(0, pos);
        if (in.size() > max_header)
            co_return;  // a head that never ends
        if (!out.empty()) {
            if (!co_await c.write_all(out, stop))
                co_return;
            out.clear();
        }
    }
    (void)co_await c.shutdown();
}

// --test: pipelined batches of GETs; every response byte is checked.
gorun::task<> client(sample::address at, unsigned id, std::atomic<int>* failures) {
    auto c = co_await sample::tcp_stream::connect(at);
    if (!c) {
        failures->fetch_add(1);
        co_return;
    }
    const std::string get = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    for (unsigned batch = 1; batch <= 40; ++batch) {
        unsigned k = 1 + (batch * 7 + id) % 32;
        std::string req;
        for (unsigned i = 0; i < k; ++i)
            req += get;
        std::string want;
        for (unsigned i = 0; i < k; ++i)
            want += response;
        std::string got(want.size(), '\0');
        auto w = co_await c->write_all(req);
        auto r = co_await c->read_exact(std::as_writable_bytes(std::span(got)));
        if (!w || !r || got != want) {
            failures->fetch_add(1);
            co_return;
        }
    }
    // A POST with a body, then Connection: close ends the connection after its answer.
    std::string last = "POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
                       "GET / HTTP/1.1\r\nConnection: close\r\n\r\n";
    std::string want = std::string(response) + std::string(response);
    std::string got(want.size() + 1, '\0');
    std::size_t have = 0;
    if (!co_await c->write_all(last)) {
        failures->fetch_add(1);
        co_return;
    }
    for (;;) {
        auto r = co_await c->read(std::span(got.data() + have, got.size() - have));
        if (!r) {
            failures->fetch_add(1);
            co_return;
        }
        if (*r == 0)
            break;
        have += *r;
    }
    if (std::string_view(got.data(), have) != want)
        failures->fetch_add(1);
}

gorun::task<> self_test(sample::address at, std::atomic<int>* failures) {
    gorun::wait_group wg;
    for (unsigned i = 0; i < 8; ++i)
        wg.go(client, at, i, failures);
    co_await wg.wait();
}

}  // namespace

int main(int argc, char** argv) {
    return sample::main("http_hello", argc, argv, &serve, &self_test);
}
