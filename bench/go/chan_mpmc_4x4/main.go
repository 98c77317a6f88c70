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

import (
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	"gorun-bench-go/internal/procs"
)

const (
	name        = "chan_mpmc_4x4"
	producers   = 4
	consumers   = 4
	perProducer = 2500000
	total       = int64(producers) * perProducer
	reps        = 5
)

type tally struct {
	count, sum int64
}

func main() {
	procs.Set(name)

	// One untimed warm-up run, then reps timed runs; the median is reported
	// (as gorun-bench does).
	var rates []float64
	for r := 0; r <= reps; r++ {
		ch := make(chan int, 1024)
		var pwg, cwg sync.WaitGroup
		tallies := make([]tally, consumers)
		start := time.Now()
		for c := 0; c < consumers; c++ {
			cwg.Add(1)
			go func(out *tally) {
				defer cwg.Done()
				var t tally
				for v := range ch {
					t.count++
					t.sum += int64(v)
				}
				*out = t
			}(&tallies[c])
		}
		for p := 0; p < producers; p++ {
			pwg.Add(1)
			go func(first int) {
				defer pwg.Done()
				for i := 0; i < perProducer; i++ {
					ch <- first + i
				}
			}(p * perProducer)
		}
		pwg.Wait()
		close(ch)
		cwg.Wait()
		elapsed := time.Since(start)
		var all tally
		for _, t := range tallies {
			all.count += t.count
			all.sum += t.sum
		}
		if all.count != total || all.sum != total*(total-1)/2 {
			fmt.Fprintf(os.Stderr, "%s: received %d values summing to %d, want %d summing to %d\n",
				name, all.count, all.sum, total, total*(total-1)/2)
			os.Exit(1)
		}
		if r > 0 {
			rates = append(rates, float64(total)/float64(elapsed.Nanoseconds())*1e3)
		}
	}
	sort.Float64s(rates)
	fmt.Printf("%s %.3f Mitems/s\n", name, rates[len(rates)/2])
}
