// Command chan_pingpong_unbuf is the Go peer of gorun's "chan_pingpong_unbuf"
// benchmark: two goroutines bounce an int over two unbuffered channels (ping,
// pong), 1,000,000 round trips; the main goroutine sends i on ping and checks
// that i comes back on pong. Prints "chan_pingpong_unbuf <ns> ns/roundtrip"
// and exits non-zero if a value comes back wrong.
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
	name     = "chan_pingpong_unbuf"
	capacity = 0
	n        = 1000000
	reps     = 5
)

func main() {
	procs.Set(name)

	// One untimed warm-up run, then reps timed runs; the median is reported
	// (as gorun-bench does).
	var perRT []float64
	for r := 0; r <= reps; r++ {
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
		if r > 0 {
			perRT = append(perRT, float64(elapsed.Nanoseconds())/n)
		}
	}
	sort.Float64s(perRT)
	fmt.Printf("%s %.2f ns/roundtrip\n", name, perRT[len(perRT)/2])
}
