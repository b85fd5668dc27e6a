package sqlstore

import (
	"context"
	"errors"
	"fmt"
)

// primaryChecker is implemented by sealers that hold several keys (see
// secretbox.Box): it reports whether a value is sealed with the key that
// seals now, so Reseal can skip it.
type primaryChecker interface {
	IsPrimary(sealed string) bool
}

// sealedTable names a table's sealed columns and the additional data each
// value is bound to.
type sealedTable struct {
	table string
	key   []string // columns read to build the additional data (after seq)
	cols  []string // sealed columns
	ad    func(key []string, col string) string
}

var sealedTables = []sealedTable{
	{table: "webhooks", key: []string{"id"}, cols: []string{"secret", "previous_secret"},
		ad: func(k []string, col string) string {
			if col == "previous_secret" {
				return "webhook:" + k[0] + ":previous"
			}
			return "webhook:" + k[0] + ":secret"
		}},
	{table: "secrets", key: []string{"project_id", "name"}, cols: []string{"sealed"},
		ad: func(k []string, _ string) string { return secretAD(k[0], k[1]) }},
	{table: "incoming_hooks", key: []string{"id"}, cols: []string{"token", "secret"},
		ad: func(k []string, col string) string { return incomingAD(k[0], col) }},
	{table: "sessions", key: []string{"key_id"}, cols: []string{"sealed_key"},
		ad: func(k []string, _ string) string { return sessionAD(k[0]) }},
}

// resealBatch is how many rows Reseal reads and rewrites per transaction.
const resealBatch = 200

// Reseal rewrites every sealed value (webhook secrets, named secrets,
// incoming hooks' tokens and secrets, dashboard sessions' keys) sealed with the store's current
// sealer, in batches of resealBatch rows, and returns how many values it
// rewrote. Values the sealer reports as already sealed with its primary key
// are left alone, so running it again after a key rotation is cheap and an
// interrupted run can be resumed. A row changed concurrently keeps its new
// value (the update only applies when the column still holds what was read).
//
// A first pass opens every value without writing: when any cannot be opened
// with the sealer's keys (a wrong or missing old key), Reseal returns an
// error counting them and naming the first, and changes nothing.
func (s *Store) Reseal(ctx context.Context) (int, error) {
	pc, _ := s.sealer.(primaryChecker)
	if err := s.resealCheck(ctx, pc); err != nil {
		return 0, err
	}
	total := 0
	err := s.resealEach(ctx, pc, func(tb sealedTable, updates []resealUpdate, _ []error) error {
		n, err := s.resealWrite(ctx, tb, updates)
		total += n
		return err
	})
	return total, err
}

// resealCheck opens every value that Reseal would rewrite and returns an
// error when any cannot be opened.
func (s *Store) resealCheck(ctx context.Context, pc primaryChecker) error {
	var failed []error
	err := s.resealEach(ctx, pc, func(_ sealedTable, _ []resealUpdate, errs []error) error {
		failed = append(failed, errs...)
		return nil
	})
	if err != nil {
		return err
	}
	if len(failed) > 0 {
		return fmt.Errorf("reseal: %d values cannot be opened with the keys given (the old key is wrong or missing); "+
			"nothing was changed; the first: %w", len(failed), failed[0])
	}
	return nil
}

// resealEach reads every sealed table in batches and calls fn with the
// rewrites of each batch and the values it could not open.
func (s *Store) resealEach(ctx context.Context, pc primaryChecker, fn func(sealedTable, []resealUpdate, []error) error) error {
	for _, tb := range sealedTables {
		var after int64
		for {
			updates, failed, last, more, err := s.resealBatch(ctx, tb, pc, after)
			if err == nil {
				err = fn(tb, updates, failed)
			}
			if err != nil {
				return fmt.Errorf("reseal %s: %w", tb.table, err)
			}
			if !more {
				break
			}
			after = last
		}
	}
	return nil
}

type resealUpdate struct {
	seq        int64
	col        string
	old, fresh string
}

// resealBatch reads up to resealBatch rows of tb after seq after and
// returns the rewrites of their values not sealed with the primary key,
// the errors of those it could not open, the last seq read and whether
// there may be more rows.
func (s *Store) resealBatch(ctx context.Context, tb sealedTable, pc primaryChecker, after int64) (
	updates []resealUpdate, failed []error, last int64, more bool, err error) {
	cols := "seq"
	for _, c := range append(append([]string{}, tb.key...), tb.cols...) {
		cols += ", " + c
	}
	q := fmt.Sprintf("SELECT %s FROM %s WHERE seq > ? ORDER BY seq LIMIT %d", cols, tb.table, resealBatch)
	rows, err := s.query(ctx, q, after)
	if err != nil {
		return nil, nil, 0, false, s.wrap(err, "")
	}
	defer rows.Close()
	count := 0
	for rows.Next() {
		count++
		key := make([]string, len(tb.key))
		vals := make([]string, len(tb.cols))
		dest := []any{&last}
		for i := range key {
			dest = append(dest, &key[i])
		}
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, nil, 0, false, err
		}
		for i, col := range tb.cols {
			u, err := s.resealValue(tb, pc, key, col, vals[i])
			switch {
			case err != nil:
				failed = append(failed, fmt.Errorf("%s %v column %s: %w", tb.table, key, col, err))
			case u != nil:
				u.seq = last
				updates = append(updates, *u)
			}
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, nil, 0, false, s.wrap(err, "")
	}
	return updates, failed, last, count == resealBatch, nil
}

// resealValue returns the rewrite of one value, nil when it needs none
// (empty, or sealed with the primary key), or the error opening it.
func (s *Store) resealValue(tb sealedTable, pc primaryChecker, key []string, col, v string) (*resealUpdate, error) {
	if v == "" || (pc != nil && pc.IsPrimary(v)) {
		return nil, nil
	}
	ad := tb.ad(key, col)
	plain, err := s.sealer.Open(v, ad)
	if err != nil {
		return nil, err
	}
	fresh, err := s.sealer.Seal(plain, ad)
	if err != nil {
		return nil, err
	}
	return &resealUpdate{col: col, old: v, fresh: fresh}, nil
}

// resealWrite applies updates in one write and returns how many values changed.
func (s *Store) resealWrite(ctx context.Context, tb sealedTable, updates []resealUpdate) (int, error) {
	if len(updates) == 0 {
		return 0, nil
	}
	n := 0
	err := s.writers.do(ctx, func(w *wtx) error {
		n = 0
		for _, u := range updates {
			k, err := w.execN(fmt.Sprintf("UPDATE %s SET %s = ? WHERE seq = ? AND %s = ?", tb.table, u.col, u.col),
				u.fresh, u.seq, u.old)
			if err != nil {
				return s.wrap(err, "")
			}
			n += int(k)
		}
		return nil
	})
	return n, err
}
