// Command http_hello_raw is a Go peer of gorun's samples/http_hello written
// by hand on net.Conn: keep-alive HTTP/1.1 with a fixed "Hello, World!"
// response, one goroutine per connection, bufio for both directions.
//
// A request is everything up to and including the first empty line (a GET
// with no body; the headers are not interpreted). Pipelined requests are
// answered in order; the responses to all the complete requests already
// read are written with one write (the bufio.Writer is flushed only when the
// read buffer holds no further complete request). A request line or header
// longer than the 4 KiB read buffer closes the connection.
//
// Usage: http_hello_raw [--port N] [--workers N]; contract as echo_server.
package main

import (
	"bufio"
	"bytes"
	"net"

	"gorun-bench-go/internal/netserve"
)

// response is byte for byte what the Asio peer sends (see bench/README.md).
var response = []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!")

var endOfHeaders = []byte("\r\n\r\n")

func serve(c net.Conn) {
	br := bufio.NewReaderSize(c, 4096)
	bw := bufio.NewWriterSize(c, 4096)
	for {
		// Read one request: lines until an empty one ("\r\n", or a bare "\n").
		for {
			line, err := br.ReadSlice('\n')
			if err != nil {
				bw.Flush() // answer what was complete; EOF or an over-long line ends it
				return
			}
			if len(line) == 1 || (len(line) == 2 && line[0] == '\r') {
				break
			}
		}
		if _, err := bw.Write(response); err != nil {
			return
		}
		// Flush unless another complete request is already buffered; a partial
		// one must not hold back the answers (its rest may wait for them).
		rest, _ := br.Peek(br.Buffered())
		if !bytes.Contains(rest, endOfHeaders) {
			if err := bw.Flush(); err != nil {
				return
			}
		}
	}
}

func main() {
	ln := netserve.Listen("http_hello_raw")
	netserve.Serve("http_hello_raw", ln, serve)
}
