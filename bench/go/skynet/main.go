// Command skynet is the Go peer of gorun's "skynet" benchmark: the classic
// skynet benchmark (https://github.com/atemerev/skynet). A 10-ary tree of
// goroutines, 6 levels deep (1,111,111 goroutines in all); each leaf sends its
// number (0..999,999) to its parent over a channel, each inner node sums its
// 10 children and sends the sum up. Prints "skynet <ms> ms" (wall time of the
// whole tree) and exits non-zero if the sum is wrong.
//
// GOMAXPROCS is the Go default (all CPUs) unless GORUN_MAXPROCS is set, so the
// Go peer can be run with the same worker count as gorun.
package main

import (
	"fmt"
	"os"
	"sort"
	"time"

	"gorun-bench-go/internal/procs"
)

const (
	reps     = 5
	leaves   = 1000000
	fanout   = 10
	expected = int64(leaves) * (leaves - 1) / 2 // 499999500000
)

func skynet(out chan<- int64, num, size, div int) {
	if size == 1 {
		out <- int64(num)
		return
	}
	rc := make(chan int64)
	child := size / div
	for i := 0; i < div; i++ {
		go skynet(rc, num+i*child, child, div)
	}
	var sum int64
	for i := 0; i < div; i++ {
		sum += <-rc
	}
	out <- sum
}

func main() {
	procs.Set("skynet")

	// One untimed warm-up run, then reps timed runs; the median is reported
	// (as gorun-bench does: the VM loses whole milliseconds now and then).
	var times []float64
	for r := 0; r <= reps; r++ {
		c := make(chan int64)
		start := time.Now()
		go skynet(c, 0, leaves, fanout)
		sum := <-c
		elapsed := time.Since(start)
		if sum != expected {
			fmt.Fprintf(os.Stderr, "skynet: wrong sum %d, want %d\n", sum, expected)
			os.Exit(1)
		}
		if r > 0 {
			times = append(times, float64(elapsed.Nanoseconds())/1e6)
		}
	}
	sort.Float64s(times)
	fmt.Printf("skynet %.3f ms\n", times[len(times)/2])
}
