// Command echo_server is the Go peer of gorun's samples/echo_server: a TCP
// echo server on 127.0.0.1, one goroutine per connection, each a plain
// Read/Write loop over a 16 KiB buffer (io.Copy would splice TCP to TCP
// through a pipe on Linux, which is not what the samples compare against).
// Go's net package sets TCP_NODELAY on every connection.
//
// Usage: echo_server [--port N] [--workers N]. The first line on stdout is
// "listening on 127.0.0.1:PORT"; SIGINT or SIGTERM shuts it down cleanly
// (exit 0). --workers sets GOMAXPROCS.
package main

import (
	"net"

	"gorun-bench-go/internal/netserve"
)

func echo(c net.Conn) {
	buf := make([]byte, 16<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return // io.EOF when the peer is done, or a reset
		}
	}
}

func main() {
	ln := netserve.Listen("echo_server")
	netserve.Serve("echo_server", ln, echo)
}
