// Command parked_task_bytes is the Go peer of gorun's "parked_task_bytes"
// benchmark: the resident memory per goroutine blocked in a receive.
// 1,000,000 goroutines each block in <-ch on one shared unbuffered channel;
// VmRSS (from /proc/self/status) is read before they are started and once all
// have started (an atomic counter incremented just before the receive, then a
// few runtime.Gosched calls so the last ones park), each after runtime.GC().
// Prints "parked_task_bytes <bytes> B/task" = (after - before) / 1,000,000,
// then closes the channel and waits for them all. Exits non-zero if VmRSS
// cannot be read or a goroutine is lost.
//
// A single measurement, no warm-up and no median (as gorun-bench does): a
// warm-up would leave its stacks cached and hide the memory being measured.
//
// GOMAXPROCS is the Go default (all CPUs) unless GORUN_MAXPROCS is set, so the
// Go peer can be run with the same worker count as gorun.
package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"gorun-bench-go/internal/procs"
)

const n = 1000000

// rssBytes returns VmRSS from /proc/self/status in bytes, or -1.
func rssBytes() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "VmRSS:") {
			continue
		}
		fields := strings.Fields(line[len("VmRSS:"):])
		if len(fields) == 0 {
			return -1
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return -1
		}
		return kb * 1024
	}
	return -1
}

func main() {
	procs.Set("parked_task_bytes")

	ch := make(chan int)
	var started int64
	var wg sync.WaitGroup

	runtime.GC()
	before := rssBytes()
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			atomic.AddInt64(&started, 1)
			<-ch
			wg.Done()
		}()
	}
	for atomic.LoadInt64(&started) < n {
		runtime.Gosched()
	}
	// The last goroutines counted may still be on their way into the
	// receive: let them park.
	for i := 0; i < 10; i++ {
		runtime.Gosched()
	}
	runtime.GC()
	after := rssBytes()
	close(ch)
	wg.Wait()

	if before < 0 || after < 0 {
		fmt.Fprintln(os.Stderr, "parked_task_bytes: cannot read VmRSS from /proc/self/status")
		os.Exit(1)
	}
	if got := atomic.LoadInt64(&started); got != n {
		fmt.Fprintf(os.Stderr, "parked_task_bytes: %d of %d goroutines started\n", got, n)
		os.Exit(1)
	}
	fmt.Printf("parked_task_bytes %.1f B/task\n", float64(after-before)/n)
}
