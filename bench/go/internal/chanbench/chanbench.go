// Package chanbench holds the channel benchmarks that the Go peers of
// gorun-bench run, each parameterised by what its variants differ in
// (capacity, producer and consumer counts). Each benchmark runs once untimed
// (warm-up), then reps times, and prints the median as "name value unit", as
// gorun-bench does; it exits non-zero when a count or a sum comes out wrong.
package chanbench

import (
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	"gorun-bench-go/internal/procs"
)

const reps = 5

type tally struct {
	count, sum int64
}

// median runs measure once untimed, then reps times, and returns the median.
func median(measure func() float64) float64 {
	var vs []float64
	for r := 0; r <= reps; r++ {
		v := measure()
		if r > 0 {
			vs = append(vs, v)
		}
	}
	sort.Float64s(vs)
	return vs[len(vs)/2]
}

func checkSum(name string, t tally, total int64) {
	if t.count != total || t.sum != total*(total-1)/2 {
		fmt.Fprintf(os.Stderr, "%s: received %d values summing to %d, want %d summing to %d\n",
			name, t.count, t.sum, total, total*(total-1)/2)
		os.Exit(1)
	}
}

func mitemsPerSec(total int64, d time.Duration) float64 {
	return float64(total) / float64(d.Nanoseconds()) * 1e3
}

// PingPong: two goroutines bounce an int over two channels of the given
// capacity, 1,000,000 round trips; prints ns/roundtrip.
func PingPong(name string, capacity int) {
	procs.Set(name)
	const n = 1000000
	v := median(func() float64 {
		ping := make(chan int, capacity)
		pong := make(chan int, capacity)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for v := range ping {
				pong <- v
			}
		}()
		bad := -1
		start := time.Now()
		for i := 0; i < n; i++ {
			ping <- i
			if v := <-pong; v != i {
				bad = i
				break
			}
		}
		elapsed := time.Since(start)
		close(ping)
		wg.Wait()
		if bad >= 0 {
			fmt.Fprintf(os.Stderr, "%s: round trip %d came back wrong\n", name, bad)
			os.Exit(1)
		}
		return float64(elapsed.Nanoseconds()) / n
	})
	fmt.Printf("%s %.2f ns/roundtrip\n", name, v)
}

// MPMC: producers send perProducer ints each (together 0..total-1) over one
// channel of capacity 1024, closed once every producer is done; consumers
// range over it, counting and summing. Prints Mitems/s.
func MPMC(name string, producers, consumers, perProducer int) {
	procs.Set(name)
	total := int64(producers) * int64(perProducer)
	v := median(func() float64 {
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
		checkSum(name, all, total)
		return mitemsPerSec(total, elapsed)
	})
	fmt.Printf("%s %.3f Mitems/s\n", name, v)
}

// consume4 selects over 4 channels until all are closed, setting a closed
// channel's variable to nil so that it is never chosen again.
func consume4(c0, c1, c2, c3 chan int, out *tally) {
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

// Select4: 4 producers, each sending 2,500,000 ints on its own channel of the
// given capacity and then closing it; one consumer selects over the 4.
// Prints Mitems/s.
func Select4(name string, capacity int) {
	procs.Set(name)
	const perProducer = 2500000
	const total = 4 * int64(perProducer)
	v := median(func() float64 {
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
			consume4(c[0], c[1], c[2], c[3], &t)
		}()
		for p := 0; p < 4; p++ {
			go func(ch chan int, first int) {
				defer wg.Done()
				for i := 0; i < perProducer; i++ {
					ch <- first + i
				}
				close(ch)
			}(c[p], p*perProducer)
		}
		wg.Wait()
		elapsed := time.Since(start)
		checkSum(name, t, total)
		return mitemsPerSec(total, elapsed)
	})
	fmt.Printf("%s %.3f Mitems/s\n", name, v)
}
