// Command http_hello_nethttp is a Go peer of gorun's samples/http_hello on
// net/http: every path answers 200 with "Hello, World!" (Content-Type
// text/plain, Content-Length 13; net/http adds its Date header). net/http
// keeps connections alive and answers pipelined requests in order, one write
// per response.
//
// Usage: http_hello_nethttp [--port N] [--workers N]; contract as
// echo_server. SIGINT or SIGTERM runs http.Server.Shutdown (closes the
// listener and idle connections, waits up to 5 s for busy ones), then exits 0.
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"

	"gorun-bench-go/internal/netserve"
)

var hello = []byte("Hello, World!")

func handler(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h["Content-Type"] = []string{"text/plain"}
	h["Content-Length"] = []string{"13"}
	w.Write(hello)
}

func main() {
	ln := netserve.Listen("http_hello_nethttp")
	srv := &http.Server{Handler: http.HandlerFunc(handler)}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case <-netserve.ShutdownSignal():
	case err := <-served:
		fmt.Fprintf(os.Stderr, "http_hello_nethttp: %v\n", err)
		os.Exit(1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		srv.Close()
	}
	os.Exit(0)
}
