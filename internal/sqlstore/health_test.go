package sqlstore

import (
	"context"
	"errors"
	"testing"

	"github.com/hookd/hookd"
)

// TestWriteHealth checks the state behind /readyz: a write failing with
// EUNAVAILABLE (once interpreted) marks the store unhealthy; other errors
// do not; while unhealthy every check runs the probe and returns its error;
// a successful probe clears the failure and later checks run no probe.
func TestWriteHealth(t *testing.T) {
	full := errors.New("SQLITE_FULL")
	interpret := func(err error) error {
		if err == full {
			return hookd.WrapError(hookd.EUNAVAILABLE, err, "the database disk is full")
		}
		return err
	}
	var h writeHealth
	probes := 0
	probeErr := error(nil)
	probe := func(context.Context) error { probes++; return probeErr }
	ctx := context.Background()

	h.observe(interpret, nil, []*writeOp{{err: hookd.Errorf(hookd.ECONFLICT, "already exists")}, {}})
	if err := h.check(ctx, probe); err != nil || probes != 0 {
		t.Fatalf("after a conflict: %v, %d probes", err, probes)
	}
	h.observe(interpret, nil, []*writeOp{{}, {err: full}})
	probeErr = interpret(full)
	for range 2 {
		if err := h.check(ctx, probe); hookd.ErrorCode(err) != hookd.EUNAVAILABLE {
			t.Fatalf("while the disk is full: %v", err)
		}
	}
	if probes != 2 {
		t.Fatalf("%d probes, want one per check while unhealthy", probes)
	}
	probeErr = nil
	if err := h.check(ctx, probe); err != nil {
		t.Fatalf("once a probe succeeds: %v", err)
	}
	if err := h.check(ctx, probe); err != nil || probes != 3 {
		t.Fatalf("after recovery: %v, %d probes (want no more)", err, probes)
	}
	h.observe(interpret, full, nil) // the commit itself failed
	if err := h.check(ctx, func(context.Context) error { return interpret(full) }); err == nil {
		t.Fatal("a failed commit was not noticed")
	}
}
