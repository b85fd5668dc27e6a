package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/hookd/hookd"
)

// CommitStats returns the counters of this store's writers. They back
// hookd_store_commits_total, hookd_store_writes_total and
// hookd_store_pipelined_writes_total.
func (s *Store) CommitStats() hookd.CommitStats { return s.writers.stats() }

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

// FailureStreakStats returns the failure streaks of the store's webhooks
// summed up, with AtMost counted for each of bounds (ascending). It backs
// the failing-webhooks metrics, and reads the webhooks table once.
func (s *Store) FailureStreakStats(ctx context.Context, bounds []int) (hookd.StreakStats, error) {
	const failing = `active <> 0 AND failure_streak > 0`
	var q strings.Builder
	q.WriteString(`SELECT COALESCE(SUM(CASE WHEN ` + failing + ` THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN active = 0 AND disabled_reason <> '' THEN 1 ELSE 0 END), 0),
		COALESCE(MAX(CASE WHEN active <> 0 THEN failure_streak ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN ` + failing + ` THEN failure_streak ELSE 0 END), 0),
		MIN(CASE WHEN ` + failing + ` THEN failing_since END)`)
	var st hookd.StreakStats
	var oldest sql.NullInt64
	var failingN, disabled, maxStreak int64
	dest := []any{&failingN, &disabled, &maxStreak, &st.Sum, &oldest}
	args := make([]any, 0, len(bounds))
	counts := make([]int64, len(bounds))
	for i, b := range bounds {
		q.WriteString(`, COALESCE(SUM(CASE WHEN ` + failing + ` AND failure_streak <= ? THEN 1 ELSE 0 END), 0)`)
		args = append(args, b)
		dest = append(dest, &counts[i])
	}
	q.WriteString(` FROM webhooks`)
	if err := s.queryRow(ctx, dest, q.String(), args...); err != nil {
		return hookd.StreakStats{}, s.wrap(err, "")
	}
	st.Failing, st.Disabled, st.Max = int(failingN), int(disabled), int(maxStreak)
	if oldest.Valid {
		st.OldestFailingSince = fromNS(oldest.Int64)
	}
	st.AtMost = make([]int, len(bounds))
	for i, c := range counts {
		st.AtMost[i] = int(c)
	}
	return st, nil
}
