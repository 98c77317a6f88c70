// Command chan_pingpong_buf1 is the Go peer of gorun's "chan_pingpong_buf1"
// benchmark: two goroutines bounce an int over two capacity-1 channels (ping,
// pong), 1,000,000 round trips; the main goroutine sends i on ping and checks
// that i comes back on pong. Prints "chan_pingpong_buf1 <ns> ns/roundtrip" and
// exits non-zero if a value comes back wrong.
//
// GOMAXPROCS is the Go default (all CPUs) unless GORUN_MAXPROCS is set, so the
// Go peer can be run with the same worker count as gorun.
package main

import "gorun-bench-go/internal/chanbench"

func main() {
	chanbench.PingPong("chan_pingpong_buf1", 1)
}
