// Command spawn_join is the Go peer of gorun's "spawn_join" benchmark: the
// amortised cost of spawning and joining an empty goroutine. N goroutines
// (default 1,000,000, override with argv[1]) are spawned in batches of 1000,
// each batch joined by a sync.WaitGroup. Prints "spawn_join <ns> ns/task"
// (total wall time / N) and exits non-zero if a join is lost.
//
// GOMAXPROCS is the Go default (all CPUs) unless GORUN_MAXPROCS is set, so the
// Go peer can be run with the same worker count as gorun.
package main

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"gorun-bench-go/internal/procs"
)

const (
	batch = 1000
	reps  = 5
)

func main() {
	procs.Set("spawn_join")

	n := 1000000
	if len(os.Args) > 1 {
		v, err := strconv.Atoi(os.Args[1])
		if err != nil || v < 1 {
			fmt.Fprintf(os.Stderr, "spawn_join: invalid N %q\n", os.Args[1])
			os.Exit(2)
		}
		n = v
	}

	var wg sync.WaitGroup
	// One untimed warm-up run, then reps timed runs; the median is reported
	// (as gorun-bench does).
	var perTask []float64
	for r := 0; r <= reps; r++ {
		start := time.Now()
		for done := 0; done < n; {
			k := batch
			if n-done < k {
				k = n - done
			}
			wg.Add(k)
			for i := 0; i < k; i++ {
				go func() { wg.Done() }()
			}
			wg.Wait()
			done += k
		}
		elapsed := time.Since(start)
		if r > 0 {
			perTask = append(perTask, float64(elapsed.Nanoseconds())/float64(n))
		}
	}
	sort.Float64s(perTask)

	// Check: one extra, counted batch to prove every goroutine ran before
	// Wait returned (kept outside the timed loop so the hot path stays empty).
	var ran int64
	wg.Add(batch)
	for i := 0; i < batch; i++ {
		go func() { atomic.AddInt64(&ran, 1); wg.Done() }()
	}
	wg.Wait()
	if got := atomic.LoadInt64(&ran); got != batch {
		fmt.Fprintf(os.Stderr, "spawn_join: %d of %d goroutines ran\n", got, batch)
		os.Exit(1)
	}

	fmt.Printf("spawn_join %.2f ns/task\n", perTask[len(perTask)/2])
}
