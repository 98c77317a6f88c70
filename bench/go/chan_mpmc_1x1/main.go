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

import (
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	"gorun-bench-go/internal/procs"
)

const (
	name        = "chan_mpmc_1x1"
	producers   = 1
	consumers   = 1
	perProducer = 10000000
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
