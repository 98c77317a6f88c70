// Command chan_mpmc_1x1 is the Go peer of gorun's "chan_mpmc_1x1" benchmark:
// one producer sends 10,000,000 ints (0..total-1) to one consumer over one
// channel of capacity 1024; the channel is closed once the producer is done (a
// sync.WaitGroup), and the consumer ranges over it, counting and summing.
// Prints "chan_mpmc_1x1 <M> Mitems/s" and exits non-zero if the count or the
// sum is wrong.
//
// GOMAXPROCS is the Go default (all CPUs) unless GORUN_MAXPROCS is set, so the
// Go peer can be run with the same worker count as gorun.
package main

import "gorun-bench-go/internal/chanbench"

func main() {
	chanbench.MPMC("chan_mpmc_1x1", 1, 1, 10000000)
}
