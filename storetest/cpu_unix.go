//go:build unix

package storetest

import (
	"syscall"
	"testing"
	"time"
)

// processCPU returns the CPU time (user and system) the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the process's CPU time per operation since start as
// cpu-µs/op: on a shared, noisy machine it moves far less than wall time.
// It counts this process only (for PostgreSQL, not the server's backends).
func reportCPU(b *testing.B, start time.Duration, perOp int) {
	if b.N == 0 || start == 0 {
		return
	}
	b.ReportMetric(float64((processCPU()-start).Microseconds())/float64(b.N*perOp), "cpu-µs/op")
}
