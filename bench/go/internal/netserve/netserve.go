// Package netserve is the command-line and lifetime contract that the Go peers
// of gorun's network samples (echo_server, http_hello) share with them:
//
//   - flags --port N (0 = the kernel picks one) and --workers N (GOMAXPROCS;
//     0 or absent = Go's default, all CPUs); Go's flag package also takes the
//     one-dash forms;
//   - the listener binds 127.0.0.1 only, and the first line on stdout is
//     "listening on 127.0.0.1:PORT";
//   - SIGINT or SIGTERM closes the listener and every open connection, waits
//     for the connection goroutines to return, and exits 0.
package netserve

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"syscall"
)

// Listen parses the flags, sets GOMAXPROCS, binds 127.0.0.1:port and prints
// the "listening on" line. It exits with status 2 on a bad flag and 1 when the
// bind fails; name prefixes the error messages.
func Listen(name string) net.Listener {
	port := flag.Int("port", 0, "TCP port on 127.0.0.1 (0 = let the kernel pick one)")
	workers := flag.Int("workers", 0, "GOMAXPROCS (0 = Go's default, all CPUs)")
	flag.Parse()
	if flag.NArg() != 0 || *port < 0 || *port > 65535 || *workers < 0 {
		fmt.Fprintf(os.Stderr, "%s: usage: %s [--port N] [--workers N]\n", name, name)
		os.Exit(2)
	}
	if *workers > 0 {
		runtime.GOMAXPROCS(*workers)
	}
	ln, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
	// os.Stdout is unbuffered: the line is out before the first accept.
	fmt.Printf("listening on %s\n", ln.Addr())
	return ln
}

// ShutdownSignal returns a channel that receives SIGINT and SIGTERM.
func ShutdownSignal() <-chan os.Signal {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGINT, syscall.SIGTERM)
	return c
}

// Serve is the goroutine-per-connection server loop: it calls handle(conn) in
// a new goroutine for each accepted connection (handle need not close conn)
// until SIGINT or SIGTERM, then closes the listener and every connection,
// waits for the handlers to return, and exits 0.
func Serve(name string, ln net.Listener, handle func(net.Conn)) {
	var (
		mu      sync.Mutex
		conns   = map[net.Conn]struct{}{}
		closing bool
		wg      sync.WaitGroup
	)
	sig := ShutdownSignal()
	acceptDone := make(chan struct{})
	go func() {
		defer close(acceptDone)
		for {
			c, err := ln.Accept()
			if err != nil {
				mu.Lock()
				stop := closing
				mu.Unlock()
				if stop {
					return
				}
				// EMFILE and friends: report and keep the listener, as the samples do.
				fmt.Fprintf(os.Stderr, "%s: accept: %v\n", name, err)
				continue
			}
			mu.Lock()
			if closing {
				mu.Unlock()
				c.Close()
				return
			}
			conns[c] = struct{}{}
			wg.Add(1)
			mu.Unlock()
			go func() {
				defer wg.Done()
				handle(c)
				c.Close()
				mu.Lock()
				delete(conns, c)
				mu.Unlock()
			}()
		}
	}()

	<-sig
	mu.Lock()
	closing = true
	ln.Close()
	for c := range conns {
		c.Close() // unblocks the handler's Read or Write
	}
	mu.Unlock()
	<-acceptDone
	wg.Wait()
	os.Exit(0)
}
