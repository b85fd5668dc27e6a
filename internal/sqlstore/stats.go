package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// PendingStats returns how many deliveries are pending and when the oldest
// of them was created (zero when none). Both questions are answered from
// the partial index of pending deliveries; it backs the metrics
// hookd_deliveries_pending and the oldest pending age.
func (s *Store) PendingStats(ctx context.Context) (int, time.Time, error) {
	var n int
	var oldest sql.NullInt64
	if err := s.queryRow(ctx, []any{&n, &oldest}, `SELECT count(*), min(seq) FROM deliveries WHERE state = 0`); err != nil {
		return 0, time.Time{}, s.wrap(err, "")
	}
	if n == 0 || !oldest.Valid {
		return 0, time.Time{}, nil
	}
	var created int64
	err := s.queryRow(ctx, []any{&created}, `SELECT created_at FROM deliveries WHERE seq = ?`, oldest.Int64)
	if errors.Is(err, sql.ErrNoRows) { // deleted meanwhile (its project was)
		return n, time.Time{}, nil
	}
	if err != nil {
		return 0, time.Time{}, s.wrap(err, "")
	}
	return n, fromNS(created), nil
}
