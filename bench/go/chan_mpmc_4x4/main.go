// Command chan_mpmc_4x4 is the Go peer of gorun's "chan_mpmc_4x4" benchmark:
// 4 producers send 2,500,000 ints each to 4 consumers over one channel of
// capacity 1024; producer p sends p*perProducer+i for i < perProducer
// (together 0..total-1). The channel is closed once every producer is done (a
// sync.WaitGroup), and each consumer ranges over it, counting and summing.
// Prints "chan_mpmc_4x4 <M> Mitems/s" and exits non-zero if the total count or
// sum is wrong.
//
// GOMAXPROCS is the Go default (all CPUs) unless GORUN_MAXPROCS is set, so the
// Go peer can be run with the same worker count as gorun.
package main

import "gorun-bench-go/internal/chanbench"

func main() {
	chanbench.MPMC("chan_mpmc_4x4", 4, 4, 2500000)
}
