// Command select4_unbuf is the Go peer of gorun's "select4_unbuf" benchmark:
// 4 producers, each sending 2,500,000 ints on its own unbuffered channel and
// then closing it (producer p sends p*perProducer+i, together 0..total-1); one
// consumer selects over the 4 channels until all are closed, setting a closed
// channel's variable to nil so that it is never chosen again. Prints
// "select4_unbuf <M> Mitems/s" and exits non-zero if the count or the sum is
// wrong.
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
	name        = "select4_unbuf"
	capacity    = 0
	perProducer = 2500000
	total       = 4 * int64(perProducer)
	reps        = 5
)

type tally struct {
	count, sum int64
}

func consume(c0, c1, c2, c3 chan int, out *tally) {
	var t tally
	open := 4
	for open > 0 {
		select {
		case v, ok := <-c0:
			if !ok {
				c0 = nil
				open--
				continue
			}
			t.count++
			t.sum += int64(v)
		case v, ok := <-c1:
			if !ok {
				c1 = nil
				open--
				continue
			}
			t.count++
			t.sum += int64(v)
		case v, ok := <-c2:
			if !ok {
				c2 = nil
				open--
				continue
			}
			t.count++
			t.sum += int64(v)
		case v, ok := <-c3:
			if !ok {
				c3 = nil
				open--
				continue
			}
			t.count++
			t.sum += int64(v)
		}
	}
	*out = t
}

func produce(c chan int, first int) {
	for i := 0; i < perProducer; i++ {
		c <- first + i
	}
	close(c)
}

func main() {
	procs.Set(name)

	// One untimed warm-up run, then reps timed runs; the median is reported
	// (as gorun-bench does).
	var rates []float64
	for r := 0; r <= reps; r++ {
		var c [4]chan int
		for i := range c {
			c[i] = make(chan int, capacity)
		}
		var wg sync.WaitGroup
		var t tally
		start := time.Now()
		wg.Add(5)
		go func() {
			defer wg.Done()
			consume(c[0], c[1], c[2], c[3], &t)
		}()
		for p := 0; p < 4; p++ {
			go func(ch chan int, first int) {
				defer wg.Done()
				produce(ch, first)
			}(c[p], p*perProducer)
		}
		wg.Wait()
		elapsed := time.Since(start)
		if t.count != total || t.sum != total*(total-1)/2 {
			fmt.Fprintf(os.Stderr, "%s: received %d values summing to %d, want %d summing to %d\n",
				name, t.count, t.sum, total, total*(total-1)/2)
			os.Exit(1)
		}
		if r > 0 {
			rates = append(rates, float64(total)/float64(elapsed.Nanoseconds())*1e3)
		}
	}
	sort.Float64s(rates)
	fmt.Printf("%s %.3f Mitems/s\n", name, rates[len(rates)/2])
}
