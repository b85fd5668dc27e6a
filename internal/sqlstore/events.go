package sqlstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"strings"
	"time"

	"github.com/hookd/hookd"
)

// EventPublish stores an event and its deliveries in one (group-committed)
// transaction.
func (s *Store) EventPublish(ctx context.Context, p hookd.PublishParams) (*hookd.PublishResult, error) {
	var res *hookd.PublishResult
	op := &writeOp{fn: func(w *wtx) error {
		var err error
		res, err = s.publish(w, p)
		return err
	}, done: make(chan struct{}), keepsIndex: true}
	if s.d.Pipeline != nil && s.d.PublishCTE {
		op.pipe = &publishPipe{s: s, p: p, op: op, res: &res}
	}
	err := s.writers.submit(ctx, op)
	if err != nil {
		return nil, err
	}
	return res, nil
}

func (s *Store) publish(w *wtx, p hookd.PublishParams) (*hookd.PublishResult, error) {
	ev := p.Event
	var plans []plannedDelivery
	var inserted bool
	var err error
	if s.d.PublishCTE {
		plans, inserted, err = s.insertPublish(w, p)
	} else {
		plans, inserted, err = s.insertEventThenDeliveries(w, p)
	}
	if err != nil {
		return nil, err
	}
	if !inserted {
		return s.duplicate(w, ev, p.Fingerprint)
	}
	res, due := publishResult(ev, plans)
	if due {
		w.markDue()
	}
	for _, pd := range plans {
		if pd.wh.Ordered && pd.owner == "" {
			if err := s.promote(w, pd.wh.ID); err != nil {
				return nil, err
			}
		}
	}
	return res, nil
}

// publishResult returns the result of a publish that inserted ev and the
// planned deliveries (their EventSeq set), and whether any of those is due
// at once.
func publishResult(ev *hookd.Event, plans []plannedDelivery) (*hookd.PublishResult, bool) {
	res := &hookd.PublishResult{Event: ev}
	due := false
	for _, pd := range plans {
		pd.d.EventSeq = ev.Seq
		due = due || pd.markDue
		res.Deliveries = append(res.Deliveries, pd.d)
		res.Webhooks = append(res.Webhooks, pd.wh)
	}
	return res, due
}

// insertEventThenDeliveries plans the deliveries from the project's
// webhooks index, inserts the event, then, unless it was a duplicate, its
// deliveries one statement each. It reports whether the event was inserted.
func (s *Store) insertEventThenDeliveries(w *wtx, p hookd.PublishParams) ([]plannedDelivery, bool, error) {
	ev := p.Event
	ix, err := s.indexInTx(w, ev.ProjectID)
	if err != nil {
		return nil, false, err
	}
	targets, err := publishTargets(ix, ev, p.Only)
	if err != nil {
		return nil, false, err
	}
	plans := planDeliveries(ev, targets, p)
	inserted, err := w.insert(&ev.Seq, `INSERT INTO events (id, project_id, type, data, timestamp, idempotency_key, fingerprint, created_at, traceparent)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		ev.ID, ev.ProjectID, ev.Type, string(ev.Data), ns(ev.Timestamp), idempotencyKey(ev), p.Fingerprint, ns(ev.CreatedAt),
		nullString(ev.TraceParent))
	if err != nil || !inserted {
		return nil, false, s.wrap(err, "")
	}
	for _, pd := range plans {
		d := pd.d
		if _, err := w.insert(&d.Seq, `INSERT INTO deliveries (id, project_id, event_seq, event_id, event_type, webhook_id, state,
			trigger_name, next_attempt_at, due_at, lease_owner, lease_token, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?)`,
			d.ID, d.ProjectID, ev.Seq, ev.ID, ev.Type, d.WebhookID, string(d.Trigger), ns(d.CreatedAt), pd.dueArg(), pd.owner,
			d.LeaseToken, ns(d.CreatedAt), ns(d.CreatedAt)); err != nil {
			return nil, false, s.wrap(err, "")
		}
	}
	return plans, true, nil
}

// idempotencyKey returns the event's idempotency key, or nil for none.
func idempotencyKey(ev *hookd.Event) any {
	if ev.IdempotencyKey == "" {
		return nil
	}
	return ev.IdempotencyKey
}

func publishTargets(ix *hookd.Index, ev *hookd.Event, only string) ([]*hookd.Webhook, error) {
	if only == "" {
		return ix.Match(ev), nil
	}
	wh := ix.Webhook(only)
	if wh == nil {
		return nil, hookd.Errorf(hookd.ENOTFOUND, "webhook %s not found", only)
	}
	return []*hookd.Webhook{wh}, nil
}

// scanOneInt reads the single integer a RETURNING clause produced, and
// reports whether there was a row.
func scanOneInt(rows *sql.Rows, dest *int64) (bool, error) {
	defer rows.Close()
	if !rows.Next() {
		return false, rows.Err()
	}
	if err := rows.Scan(dest); err != nil {
		return false, err
	}
	return true, rows.Close()
}

// duplicate returns the event that already holds ev's id or idempotency
// key: as a duplicate when the fingerprints agree, ECONFLICT otherwise.
func (s *Store) duplicate(w *wtx, ev *hookd.Event, fingerprint []byte) (*hookd.PublishResult, error) {
	rows, err := w.query(`SELECT `+eventColumns+`, fingerprint FROM events
		WHERE project_id = ? AND (id = ? OR idempotency_key = ?) ORDER BY seq LIMIT 1`,
		ev.ProjectID, ev.ID, ev.IdempotencyKey)
	if err != nil {
		return nil, s.wrap(err, "")
	}
	defer rows.Close()
	if !rows.Next() {
		return nil, s.wrap(rows.Err(), "") // cannot happen: the insert conflicted
	}
	var fp []byte
	old, err := scanEventWith(rows, &fp)
	if err != nil {
		return nil, s.wrap(err, "")
	}
	if !bytes.Equal(fp, fingerprint) {
		what := "id " + ev.ID
		if ev.IdempotencyKey != "" && old.IdempotencyKey == ev.IdempotencyKey {
			what = "Idempotency-Key " + ev.IdempotencyKey
		}
		return nil, hookd.Errorf(hookd.ECONFLICT,
			"event %s was already published with the %s and a different type or data", old.ID, what)
	}
	return &hookd.PublishResult{Event: old, Duplicate: true}, nil
}

// plannedDelivery is a delivery about to be inserted, with its queue columns.
type plannedDelivery struct {
	d       *hookd.Delivery
	wh      *hookd.Webhook
	due     *time.Time // nil: not claimable (behind an ordered webhook's head)
	owner   string
	markDue bool // claimable now by any node: wake dispatchers after commit
}

// planDeliveries builds the deliveries of a publish: the first p.LeaseMax
// unordered ones leased to p.LeaseOwner, ordered ones waiting for promote,
// the others due now.
func planDeliveries(ev *hookd.Event, targets []*hookd.Webhook, p hookd.PublishParams) []plannedDelivery {
	token := randomToken()
	leases := p.LeaseMax
	plans := make([]plannedDelivery, 0, len(targets))
	for _, wh := range targets {
		lease := p.LeaseOwner != "" && leases > 0 && (!wh.Ordered || p.Only != "")
		if lease {
			leases--
		}
		plans = append(plans, planDelivery(ev, wh, p, lease, token))
	}
	return plans
}

// dueArg is the due_at column of the delivery: unix nanoseconds, or nil.
func (pd plannedDelivery) dueArg() any {
	if pd.due == nil {
		return nil
	}
	return ns(*pd.due)
}

func planDelivery(ev *hookd.Event, wh *hookd.Webhook, p hookd.PublishParams, lease bool, token int64) plannedDelivery {
	now := p.Now
	d := &hookd.Delivery{ID: hookd.NewID(hookd.PrefixDelivery, now), ProjectID: ev.ProjectID, EventID: ev.ID,
		EventType: ev.Type, WebhookID: wh.ID, State: hookd.StatePending, Trigger: p.Trigger,
		NextAttemptAt: &now, CreatedAt: now, UpdatedAt: now}
	if d.Trigger == "" {
		d.Trigger = hookd.TriggerAuto
	}
	pd := plannedDelivery{d: d, wh: wh}
	switch {
	case lease:
		until := p.LeaseUntil
		pd.due, pd.owner, d.LeaseToken = &until, p.LeaseOwner, token
	case wh.Ordered:
	default:
		pd.due, pd.markDue = &now, true
	}
	return pd
}

// randomToken returns a positive random lease token.
func randomToken() int64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return int64(binary.BigEndian.Uint64(b[:])>>1) | 1
}

const eventColumns = `seq, id, project_id, type, data, timestamp, idempotency_key, created_at, traceparent`

func scanEvent(sc scanner) (*hookd.Event, int64, error) {
	ev, err := scanEventWith(sc)
	if err != nil {
		return nil, 0, err
	}
	return ev, ev.Seq, nil
}

func scanEventWith(sc scanner, extra ...any) (*hookd.Event, error) {
	var ev hookd.Event
	var data string
	var ts, created int64
	var idem, tp sql.NullString
	dest := append([]any{&ev.Seq, &ev.ID, &ev.ProjectID, &ev.Type, &data, &ts, &idem, &created, &tp}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return nil, err
	}
	ev.Data = []byte(data)
	ev.Timestamp, ev.CreatedAt, ev.IdempotencyKey = fromNS(ts), fromNS(created), idem.String
	ev.TraceParent = tp.String
	return &ev, nil
}

// EventGet returns one event, or ENOTFOUND.
func (s *Store) EventGet(ctx context.Context, projectID, id string) (*hookd.Event, error) {
	rows, err := s.query(ctx, `SELECT `+eventColumns+` FROM events WHERE project_id = ? AND id = ?`, projectID, id)
	if err != nil {
		return nil, s.wrap(err, "")
	}
	list, _, err := collect(rows, 1, scanEvent)
	if err != nil {
		return nil, s.wrap(err, "")
	}
	if len(list) == 0 {
		return nil, hookd.Errorf(hookd.ENOTFOUND, "event %s not found", id)
	}
	return list[0], nil
}

// EventList returns events newest first.
func (s *Store) EventList(ctx context.Context, f hookd.EventFilter) ([]*hookd.Event, string, error) {
	before, err := beforeCursor(f.Cursor)
	if err != nil {
		return nil, "", err
	}
	limit := hookd.PageLimit(f.Limit)
	q := strings.Builder{}
	q.WriteString(`SELECT ` + eventColumns + ` FROM events WHERE project_id = ? AND seq < ?`)
	args := []any{f.ProjectID, before}
	switch prefix, isPrefix := strings.CutSuffix(f.Type, "*"); {
	case f.Type == "" || f.Type == "*":
	case isPrefix:
		// deploy.* is the range [deploy., deploy/): '/' follows '.' in ASCII.
		q.WriteString(` AND type >= ? AND type < ?`)
		args = append(args, prefix, prefix[:len(prefix)-1]+"/")
	default:
		q.WriteString(` AND type = ?`)
		args = append(args, f.Type)
	}
	if !f.Since.IsZero() {
		q.WriteString(` AND created_at >= ?`)
		args = append(args, ns(f.Since))
	}
	if !f.Until.IsZero() {
		q.WriteString(` AND created_at < ?`)
		args = append(args, ns(f.Until))
	}
	q.WriteString(` ORDER BY seq DESC LIMIT ?`)
	args = append(args, limit+1)
	rows, err := s.query(ctx, q.String(), args...)
	if err != nil {
		return nil, "", s.wrap(err, "")
	}
	list, next, err := collect(rows, limit, scanEvent)
	return list, next, s.wrap(err, "")
}
