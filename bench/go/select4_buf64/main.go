// Command select4_buf64 is the Go peer of gorun's "select4_buf64" benchmark:
// 4 producers, each sending 2,500,000 ints on its own capacity-64 channel and
// then closing it (producer p sends p*perProducer+i, together 0..total-1); one
// consumer selects over the 4 channels until all are closed, setting a closed
// channel's variable to nil so that it is never chosen again. Prints
// "select4_buf64 <M> Mitems/s" and exits non-zero if the count or the sum is
// wrong.
//
// GOMAXPROCS is the Go default (all CPUs) unless GORUN_MAXPROCS is set, so the
// Go peer can be run with the same worker count as gorun.
package main

import "gorun-bench-go/internal/chanbench"

func main() {
	chanbench.Select4("select4_buf64", 64)
}
