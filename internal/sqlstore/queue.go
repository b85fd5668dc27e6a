package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hookd/hookd"
)

// DeliveryClaim leases up to p.Limit due deliveries to p.Owner and returns
// them with their events.
func (s *Store) DeliveryClaim(ctx context.Context, p hookd.ClaimParams) ([]*hookd.Job, error) {
	var jobs []*hookd.Job
	err := s.writers.do(ctx, func(w *wtx) error {
		jobs = nil // the write may run again (after a deadlock)
		rows, err := w.query(s.d.Claim, ns(p.LeaseUntil), p.Owner, randomToken(), ns(p.Now), ns(p.Now),
			jsonList(p.Exclude), p.Limit)
		if err != nil {
			return s.wrap(err, "")
		}
		list, _, err := collect(rows, 1<<30, scanDelivery)
		if err != nil || len(list) == 0 {
			return s.wrap(err, "")
		}
		jobs, err = s.attachEvents(w, list)
		return err
	})
	return jobs, err
}

// attachEvents loads the events of claimed deliveries, in one query.
func (s *Store) attachEvents(w *wtx, list []*hookd.Delivery) ([]*hookd.Job, error) {
	seqs := make([]int64, 0, len(list))
	for _, d := range list {
		seqs = append(seqs, d.EventSeq)
	}
	slices.Sort(seqs)
	seqs = slices.Compact(seqs)
	rows, err := w.query(`SELECT `+eventColumns+` FROM events WHERE seq IN ({{int}})`, jsonList(seqs))
	if err != nil {
		return nil, s.wrap(err, "")
	}
	events, _, err := collect(rows, 1<<30, scanEvent)
	if err != nil {
		return nil, s.wrap(err, "")
	}
	bySeq := make(map[int64]*hookd.Event, len(events))
	for _, ev := range events {
		bySeq[ev.Seq] = ev
	}
	jobs := make([]*hookd.Job, 0, len(list))
	for _, d := range list {
		jobs = append(jobs, &hookd.Job{Delivery: d, Event: bySeq[d.EventSeq]})
	}
	return jobs, nil
}

// DeliveryRenew extends the leases still held under refs.
func (s *Store) DeliveryRenew(ctx context.Context, refs []hookd.LeaseRef, until time.Time) (int, error) {
	var n int64
	err := s.writers.do(ctx, func(w *wtx) error {
		n = 0 // the write may run again (after a deadlock)
		for _, r := range refs {
			k, err := w.execN(`UPDATE deliveries SET due_at = ? WHERE seq = ? AND lease_token = ? AND state = 0`,
				ns(until), r.Seq, r.Token)
			if err != nil {
				return s.wrap(err, "")
			}
			n += k
		}
		return nil
	})
	return int(n), err
}

// DeliveryNextDue returns when the earliest pending delivery is due.
func (s *Store) DeliveryNextDue(ctx context.Context) (time.Time, bool, error) {
	var due sql.NullInt64
	if err := s.queryRow(ctx, []any{&due}, `SELECT min(due_at) FROM deliveries WHERE due_at IS NOT NULL`); err != nil {
		return time.Time{}, false, s.wrap(err, "")
	}
	if !due.Valid {
		return time.Time{}, false, nil
	}
	return fromNS(due.Int64), true, nil
}

// DeliveryComplete records outcomes in one transaction.
func (s *Store) DeliveryComplete(ctx context.Context, outcomes []*hookd.Outcome) error {
	return s.writers.do(ctx, func(w *wtx) error {
		if batchable(outcomes) {
			return s.completeBatch(w, outcomes)
		}
		streaks := map[string]*streak{}
		ordered := map[string]bool{}
		for _, o := range outcomes {
			held, err := s.complete(w, o, ordered)
			if err != nil {
				return err
			}
			if o.Attempt != nil && (held || o.Attempt.Outcome == hookd.OutcomeSucceeded) {
				countStreak(streaks, o)
			}
		}
		return s.applyStreaks(w, streaks)
	})
}

// batchable reports whether outcomes may be recorded with multi-row
// statements (completeBatch): no outcome disables its webhook (which parks
// the webhook's deliveries, so later outcomes of the batch must see it) and
// no delivery appears twice (the second must see the first's update).
func batchable(outcomes []*hookd.Outcome) bool {
	if len(outcomes) < 2 {
		return false
	}
	seen := make(map[int64]struct{}, len(outcomes))
	for _, o := range outcomes {
		if o.DisableReason != "" {
			return false
		}
		if _, dup := seen[o.Delivery.Seq]; dup {
			return false
		}
		seen[o.Delivery.Seq] = struct{}{}
	}
	return true
}

// completeBatch records outcomes as complete does one by one, with fewer
// statements: the attempts in multi-row INSERTs, the final outcomes in
// multi-row UPDATEs (joined to a VALUES list, RETURNING the deliveries whose
// lease was still held), retries one by one. The outcomes touch distinct
// deliveries and disable nothing, so the order of the statements does not
// change the result; promotions of ordered webhooks run after the updates,
// in the outcomes' order, as complete would.
func (s *Store) completeBatch(w *wtx, outcomes []*hookd.Outcome) error {
	held := make(map[int64]bool, len(outcomes))
	ordered := map[string]bool{}
	final := make([]*hookd.Outcome, 0, len(outcomes))
	for _, o := range outcomes {
		if o.State != hookd.StatePending {
			final = append(final, o)
		}
	}
	if s.d.PublishCTE {
		if err := s.completeWithCTE(w, outcomes, final, held, ordered); err != nil {
			return err
		}
	} else if err := s.insertAttempts(w, outcomes); err != nil {
		return err
	} else if err := s.finishDeliveries(w, final, held); err != nil {
		return err
	}
	for _, o := range outcomes {
		if o.State != hookd.StatePending {
			continue
		}
		n, err := s.updateDelivery(w, o)
		if err != nil {
			return err
		}
		held[o.Delivery.Seq] = n > 0
	}
	streaks := map[string]*streak{}
	for _, o := range outcomes {
		h := held[o.Delivery.Seq]
		if h {
			if o.State == hookd.StatePending {
				w.markDue()
			} else if isOrdered, err := s.orderedNow(w, o, ordered); err != nil {
				return err
			} else if isOrdered {
				if err := s.promote(w, o.Delivery.WebhookID); err != nil {
					return err
				}
			}
		}
		if o.Attempt != nil && (h || o.Attempt.Outcome == hookd.OutcomeSucceeded) {
			countStreak(streaks, o)
		}
	}
	return s.applyStreaks(w, streaks)
}

// chunks calls fn with consecutive pieces of n items whose sizes are powers
// of two of at most maxRows, largest first, so that a multi-row statement
// is prepared for at most a handful of sizes.
func chunks(n, maxRows int, fn func(from, to int) error) error {
	from := 0
	for size := maxRows; size > 0; size /= 2 {
		for n-from >= size {
			if err := fn(from, from+size); err != nil {
				return err
			}
			from += size
		}
	}
	return nil
}

// maxRows bounds the rows of one multi-row statement: 64 attempts are
// 1,024 parameters, well under SQLite's and PostgreSQL's limits.
const maxRows = 64

// rowsSQL returns n copies of row separated by commas.
func rowsSQL(row string, n int) string {
	var b strings.Builder
	b.Grow(n * (len(row) + 2))
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	return b.String()
}

// stmtCache caches the text of multi-row statements by row count.
type stmtCache struct {
	mu sync.Mutex
	m  map[int]string
}

func (c *stmtCache) get(n int, build func(int) string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if q, ok := c.m[n]; ok {
		return q
	}
	if c.m == nil {
		c.m = map[int]string{}
	}
	q := build(n)
	c.m[n] = q
	return q
}

const attemptInsert = `INSERT INTO attempts (id, delivery_seq, number, trigger_name, outcome, started_at, duration_ns,
		request_method, request_url, request_headers, request_body, response_status, response_headers, response_body,
		response_meta, error) VALUES `

var attemptInserts stmtCache

// insertAttempts inserts the attempts of outcomes, in order, with
// multi-row INSERTs.
func (s *Store) insertAttempts(w *wtx, outcomes []*hookd.Outcome) error {
	with := make([]*hookd.Outcome, 0, len(outcomes))
	for _, o := range outcomes {
		if o.Attempt != nil {
			with = append(with, o)
		}
	}
	var args []any
	return chunks(len(with), maxRows, func(from, to int) error {
		n := to - from
		q := attemptInserts.get(n, func(n int) string {
			return attemptInsert + rowsSQL(`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, n)
		})
		args = args[:0]
		for _, o := range with[from:to] {
			args = appendAttemptArgs(args, o.Delivery, o.Attempt)
		}
		_, err := w.exec(q, args...)
		return s.wrap(err, "")
	})
}

// finishDeliveries applies final outcomes (state succeeded, failed or
// canceled) to their deliveries with multi-row UPDATEs, and records in held
// which deliveries were still leased under the outcome's token.
func (s *Store) finishDeliveries(w *wtx, final []*hookd.Outcome, held map[int64]bool) error {
	var args []any
	return chunks(len(final), maxRows, func(from, to int) error {
		n := to - from
		q := finishUpdates.get(n, func(n int) string {
			return `UPDATE deliveries SET state = v.column3, next_attempt_at = NULL, due_at = NULL, lease_owner = '',
			lease_token = 0, attempt_count = attempt_count + v.column4, last_attempt_at = COALESCE(v.column5, last_attempt_at),
			last_status = CASE WHEN v.column4 = 1 THEN v.column6 ELSE last_status END,
			last_error = CASE WHEN v.column4 = 1 THEN v.column7 ELSE last_error END, completed_at = v.column8, updated_at = v.column8
			FROM (VALUES ` + rowsSQL(`(CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS INTEGER), CAST(? AS INTEGER), CAST(? AS BIGINT), CAST(? AS INTEGER), CAST(? AS TEXT), CAST(? AS BIGINT))`, n) + `) AS v
			WHERE deliveries.seq = v.column1 AND deliveries.lease_token = v.column2 AND deliveries.state = 0
			RETURNING deliveries.seq`
		})
		args = args[:0]
		for _, o := range final[from:to] {
			d, t := o.Delivery, triedOf(o.Attempt)
			args = append(args, d.Seq, d.LeaseToken, stateCodes[o.State], t.n, t.lastArg(), t.status, t.err, ns(o.Now))
		}
		rows, err := w.query(q, args...)
		if err != nil {
			return s.wrap(err, "")
		}
		defer rows.Close()
		for rows.Next() {
			var seq int64
			if err := rows.Scan(&seq); err != nil {
				return s.wrap(err, "")
			}
			held[seq] = true
		}
		return s.wrap(rows.Close(), "")
	})
}

var finishUpdates stmtCache

// complete records one outcome and reports whether its lease was still held.
// ordered caches, per webhook id, whether the webhook is ordered.
func (s *Store) complete(w *wtx, o *hookd.Outcome, ordered map[string]bool) (bool, error) {
	d := o.Delivery
	if o.Attempt != nil {
		if err := s.insertAttempt(w, d, o.Attempt); err != nil {
			return false, err
		}
	}
	n, err := s.updateDelivery(w, o)
	if err != nil || n == 0 {
		return false, err
	}
	if o.State == hookd.StatePending {
		w.markDue()
	} else if isOrdered, err := s.orderedNow(w, o, ordered); err != nil {
		return true, err
	} else if isOrdered {
		if err := s.promote(w, d.WebhookID); err != nil {
			return true, err
		}
	}
	if o.DisableReason != "" {
		return true, s.disable(w, d.ProjectID, d.WebhookID, o.DisableReason, o.Now)
	}
	return true, nil
}

// orderedNow reports whether the webhook of an outcome is ordered. The
// outcome says what the dispatcher knew when it claimed the delivery; the
// webhook may have become ordered since, and then the next delivery must be
// started all the same or the chain would never move. Answers are cached
// in cache for the rest of the batch.
func (s *Store) orderedNow(w *wtx, o *hookd.Outcome, cache map[string]bool) (bool, error) {
	if o.Ordered {
		return true, nil
	}
	id := o.Delivery.WebhookID
	if ordered, ok := cache[id]; ok {
		return ordered, nil
	}
	var ordered int
	err := w.queryRow([]any{&ordered}, `SELECT ordered FROM webhooks WHERE id = ?`, id)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, s.wrap(err, "")
	}
	cache[id] = ordered != 0
	return ordered != 0, nil
}

func (s *Store) updateDelivery(w *wtx, o *hookd.Outcome) (int64, error) {
	d, t, now := o.Delivery, triedOf(o.Attempt), ns(o.Now)
	tried, last, status, lastErr := t.n, t.lastArg(), t.status, t.err
	var n int64
	var err error
	if o.State == hookd.StatePending {
		next := ns(o.NextAttemptAt)
		n, err = w.execN(`UPDATE deliveries SET next_attempt_at = ?,
			due_at = CASE WHEN EXISTS (SELECT 1 FROM webhooks WHERE id = ? AND active = 1) THEN CAST(? AS BIGINT) ELSE NULL END,
			lease_owner = '', lease_token = 0, attempt_count = attempt_count + ?,
			last_attempt_at = COALESCE(?, last_attempt_at),
			last_status = CASE WHEN ? = 1 THEN ? ELSE last_status END,
			last_error = CASE WHEN ? = 1 THEN ? ELSE last_error END,
			trigger_name = CASE WHEN ? = 1 THEN 'auto' ELSE trigger_name END, updated_at = ?
			WHERE seq = ? AND lease_token = ? AND state = 0`,
			next, d.WebhookID, next, tried, last, tried, status, tried, lastErr, tried, now, d.Seq, d.LeaseToken)
	} else {
		n, err = w.execN(`UPDATE deliveries SET state = ?, next_attempt_at = NULL, due_at = NULL, lease_owner = '',
			lease_token = 0, attempt_count = attempt_count + ?, last_attempt_at = COALESCE(?, last_attempt_at),
			last_status = CASE WHEN ? = 1 THEN ? ELSE last_status END,
			last_error = CASE WHEN ? = 1 THEN ? ELSE last_error END, completed_at = ?, updated_at = ?
			WHERE seq = ? AND lease_token = ? AND state = 0`,
			stateCodes[o.State], tried, last, tried, status, tried, lastErr, now, now, d.Seq, d.LeaseToken)
	}
	return n, s.wrap(err, "")
}

func (s *Store) insertAttempt(w *wtx, d *hookd.Delivery, a *hookd.Attempt) error {
	_, err := w.exec(attemptInsert+`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, appendAttemptArgs(nil, d, a)...)
	return s.wrap(err, "")
}

// attemptRow holds the 16 column values of an attempt row; nil pointers
// are NULL.
type attemptRow struct {
	id                              string
	deliverySeq                     int64
	number                          int
	trigger, outcome                string
	startedAt, durationNS           int64
	method, url, reqHeaders         string
	reqBody                         *string // nil: the event's envelope
	status                          int
	respHeaders, respBody, respMeta *string
	err                             string
}

func newAttemptRow(d *hookd.Delivery, a *hookd.Attempt) attemptRow {
	r := attemptRow{id: a.ID, deliverySeq: d.Seq, number: a.Number, trigger: string(a.Trigger), outcome: a.Outcome,
		startedAt: ns(a.StartedAt), durationNS: int64(a.DurationMS * 1e6), method: a.Request.Method,
		url: a.Request.URL, reqHeaders: headersJSON(a.Request.Headers), err: a.Error}
	if !a.Request.BodyIsEnvelope {
		r.reqBody = &a.Request.Body
	}
	if resp := a.Response; resp != nil {
		h := headersJSON(resp.Headers)
		r.status, r.respHeaders, r.respBody = resp.Status, &h, &resp.Body
		if resp.BodyEncoding != "" || resp.Truncated {
			m, _ := json.Marshal(responseMeta{resp.BodyEncoding, resp.Truncated})
			meta := string(m)
			r.respMeta = &meta
		}
	}
	return r
}

// appendAttemptArgs appends the 16 column values of an attempt row.
func appendAttemptArgs(args []any, d *hookd.Delivery, a *hookd.Attempt) []any {
	r := newAttemptRow(d, a)
	return append(args, r.id, r.deliverySeq, r.number, r.trigger, r.outcome, r.startedAt, r.durationNS,
		r.method, r.url, r.reqHeaders, nullable(r.reqBody), r.status, nullable(r.respHeaders), nullable(r.respBody),
		nullable(r.respMeta), r.err)
}

// nullable returns *p, or nil (NULL) when p is nil.
// tried is what a delivery row keeps of an outcome's attempt: n is 1
// with an attempt (then last is its start in ns, status its response's,
// err its error) and 0 without one, the rest then zero.
type tried struct {
	n, status int
	last      int64
	err       string
}

// triedOf returns what a delivery row keeps of a; a may be nil.
func triedOf(a *hookd.Attempt) tried {
	if a == nil {
		return tried{}
	}
	t := tried{n: 1, last: ns(a.StartedAt), err: a.Error}
	if a.Response != nil {
		t.status = a.Response.Status
	}
	return t
}

// lastArg returns the attempt's start as a statement argument, NULL
// without an attempt.
func (t tried) lastArg() any {
	if t.n == 0 {
		return nil
	}
	return t.last
}

func nullable(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

// disable turns a webhook off for reason (410 Gone, failure streak) and
// parks its pending deliveries.
func (s *Store) disable(w *wtx, projectID, webhookID, reason string, now time.Time) error {
	n, err := w.execN(`UPDATE webhooks SET active = 0, disabled_reason = ?, updated_at = ? WHERE id = ? AND active = 1`,
		reason, ns(now), webhookID)
	if err != nil || n == 0 {
		return s.wrap(err, "")
	}
	if err := s.bumpVersion(w, projectID); err != nil {
		return err
	}
	return s.reschedule(w, webhookID, false, false)
}

// streak is the change a batch of outcomes makes to a webhook's failure
// streak: reset (a success) and then add failures.
type streak struct {
	reset bool
	add   int
	since time.Time
}

func countStreak(m map[string]*streak, o *hookd.Outcome) {
	a := o.Attempt
	if a.Trigger == hookd.TriggerTest && a.Outcome != hookd.OutcomeSucceeded {
		return // a failed test says nothing about real deliveries
	}
	st := m[o.Delivery.WebhookID]
	if st == nil {
		st = &streak{}
		m[o.Delivery.WebhookID] = st
	}
	if a.Outcome == hookd.OutcomeSucceeded {
		*st = streak{reset: true}
		return
	}
	if st.add == 0 {
		st.since = a.StartedAt
	}
	st.add++
}

func (s *Store) applyStreaks(w *wtx, m map[string]*streak) error {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids) // a fixed lock order across concurrent writers
	for _, id := range ids {
		st := m[id]
		var err error
		switch {
		case st.reset && st.add == 0:
			_, err = w.exec(`UPDATE webhooks SET failure_streak = 0, failing_since = NULL WHERE id = ? AND failure_streak <> 0`, id)
		case st.reset:
			_, err = w.exec(`UPDATE webhooks SET failure_streak = ?, failing_since = ? WHERE id = ?`, st.add, ns(st.since), id)
		default:
			_, err = w.exec(`UPDATE webhooks SET failure_streak = failure_streak + ?, failing_since = COALESCE(failing_since, ?)
				WHERE id = ?`, st.add, ns(st.since), id)
		}
		if err != nil {
			return s.wrap(err, "")
		}
	}
	return nil
}

// pruneCut finds the seq of the last event created before a cut-off by
// walking the events_created index back from it. (SELECT max(seq) … WHERE
// created_at < ? was planned by SQLite as a walk of the whole table back
// from its newest row, every minute, holding the writer: 0.9 s at 100,000
// events.) An event created a moment earlier but committed later has a
// higher seq and waits for the next round, when the cut-off has moved on.
const pruneCut = `SELECT seq FROM events WHERE created_at < ? ORDER BY created_at DESC LIMIT 1`

// Prune deletes up to limit finished deliveries (with their attempts)
// completed before before, then up to limit events created before before
// that have no deliveries left. It returns how many deliveries and events
// it deleted.
func (s *Store) Prune(ctx context.Context, before time.Time, limit int) (int, error) {
	var total int64
	err := s.writers.do(ctx, func(w *wtx) error {
		total = 0 // the write may run again (after a deadlock)
		// A delivery completes after its event was created, so only events
		// up to the last one created before the cut-off can be concerned:
		// the bound lets the queries walk the event_seq index.
		var cut sql.NullInt64
		if err := w.queryRow([]any{&cut}, pruneCut, ns(before)); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return s.wrap(err, "")
		}
		if !cut.Valid {
			return nil
		}
		const victims = `SELECT seq FROM deliveries WHERE event_seq <= ? AND state <> 0 AND completed_at < ?
			ORDER BY event_seq LIMIT ?`
		if _, err := w.exec(`DELETE FROM attempts WHERE delivery_seq IN (`+victims+`)`, cut.Int64, ns(before), limit); err != nil {
			return s.wrap(err, "")
		}
		n, err := w.execN(`DELETE FROM deliveries WHERE seq IN (`+victims+`)`, cut.Int64, ns(before), limit)
		if err != nil {
			return s.wrap(err, "")
		}
		m, err := w.execN(`DELETE FROM events WHERE seq IN (SELECT e.seq FROM events e WHERE e.seq <= ? AND e.created_at < ?
			AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq) ORDER BY e.seq LIMIT ?)`,
			cut.Int64, ns(before), limit)
		total = n + m
		return s.wrap(err, "")
	})
	return int(total), err
}
