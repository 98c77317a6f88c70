// Package procs sets GOMAXPROCS from GORUN_MAXPROCS, so that the Go peers can
// be run with the same worker count as gorun-bench.
package procs

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
)

// Set applies GORUN_MAXPROCS when it is set; it exits with status 2 when the
// value is not a positive integer. name prefixes the error message.
func Set(name string) {
	v, ok := os.LookupEnv("GORUN_MAXPROCS")
	if !ok || v == "" {
		return
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		fmt.Fprintf(os.Stderr, "%s: invalid GORUN_MAXPROCS=%q\n", name, v)
		os.Exit(2)
	}
	runtime.GOMAXPROCS(n)
}
