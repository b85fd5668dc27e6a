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
func (s *Store) Reseal(ctx context.Context) (int, error) {
	pc, _ := s.sealer.(primaryChecker)
	total := 0
	for _, tb := range sealedTables {
		var after int64
		for {
			n, last, more, err := s.resealBatch(ctx, tb, pc, after)
			total += n
			if err != nil {
				return total, fmt.Errorf("reseal %s: %w", tb.table, err)
			}
			if !more {
				break
			}
			after = last
		}
	}
	return total, nil
}

type resealUpdate struct {
	seq        int64
	col        string
	old, fresh string
}

func (s *Store) resealBatch(ctx context.Context, tb sealedTable, pc primaryChecker, after int64) (n int, last int64, more bool, err error) {
	cols := "seq"
	for _, c := range append(append([]string{}, tb.key...), tb.cols...) {
		cols += ", " + c
	}
	q := fmt.Sprintf("SELECT %s FROM %s WHERE seq > ? ORDER BY seq LIMIT %d", cols, tb.table, resealBatch)
	rows, err := s.query(ctx, q, after)
	if err != nil {
		return 0, 0, false, s.wrap(err, "")
	}
	var updates []resealUpdate
	count := 0
	for rows.Next() {
		count++
		var seq int64
		key := make([]string, len(tb.key))
		vals := make([]string, len(tb.cols))
		dest := []any{&seq}
		for i := range key {
			dest = append(dest, &key[i])
		}
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		if err := rows.Scan(dest...); err != nil {
			rows.Close()
			return 0, 0, false, err
		}
		last = seq
		for i, col := range tb.cols {
			v := vals[i]
			if v == "" || (pc != nil && pc.IsPrimary(v)) {
				continue
			}
			ad := tb.ad(key, col)
			plain, err := s.sealer.Open(v, ad)
			if err != nil {
				rows.Close()
				return 0, 0, false, fmt.Errorf("row %v column %s: %w", key, col, err)
			}
			fresh, err := s.sealer.Seal(plain, ad)
			if err != nil {
				rows.Close()
				return 0, 0, false, err
			}
			updates = append(updates, resealUpdate{seq: seq, col: col, old: v, fresh: fresh})
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return 0, 0, false, s.wrap(err, "")
	}
	if len(updates) > 0 {
		err = s.writers.do(ctx, func(w *wtx) error {
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
		if err != nil {
			return 0, 0, false, err
		}
	}
	return n, last, count == resealBatch, nil
}
