package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/hookd/hookd"
)

var stateCodes = map[hookd.DeliveryState]int{hookd.StatePending: 0, hookd.StateSucceeded: 1, hookd.StateFailed: 2, hookd.StateCanceled: 3}
var stateNames = []hookd.DeliveryState{hookd.StatePending, hookd.StateSucceeded, hookd.StateFailed, hookd.StateCanceled}

// DeliveryColumns are the columns every delivery query returns, in scan
// order; dialects' Claim statements return them too.
const DeliveryColumns = `seq, id, project_id, event_seq, event_id, event_type, webhook_id, state, attempt_count,
	trigger_name, next_attempt_at, lease_token, last_attempt_at, last_status, last_error, created_at, updated_at, completed_at`

func scanDelivery(sc scanner) (*hookd.Delivery, int64, error) {
	var d hookd.Delivery
	var state int
	var trigger string
	var next, last, completed sql.NullInt64
	var created, updated int64
	if err := sc.Scan(&d.Seq, &d.ID, &d.ProjectID, &d.EventSeq, &d.EventID, &d.EventType, &d.WebhookID, &state,
		&d.AttemptCount, &trigger, &next, &d.LeaseToken, &last, &d.LastStatus, &d.LastError, &created, &updated,
		&completed); err != nil {
		return nil, 0, err
	}
	d.State = stateNames[state]
	d.Trigger = hookd.Trigger(trigger)
	d.NextAttemptAt, d.LastAttemptAt, d.CompletedAt = fromNull(next), fromNull(last), fromNull(completed)
	d.CreatedAt, d.UpdatedAt = fromNS(created), fromNS(updated)
	return &d, d.Seq, nil
}

// DeliveryGet returns one delivery (without attempts), or ENOTFOUND.
func (s *Store) DeliveryGet(ctx context.Context, projectID, id string) (*hookd.Delivery, error) {
	rows, err := s.query(ctx, `SELECT `+DeliveryColumns+` FROM deliveries WHERE project_id = ? AND id = ?`, projectID, id)
	if err != nil {
		return nil, s.wrap(err, "")
	}
	return s.oneDelivery(rows, id)
}

func (s *Store) oneDelivery(rows *sql.Rows, id string) (*hookd.Delivery, error) {
	list, _, err := collect(rows, 1, scanDelivery)
	if err != nil {
		return nil, s.wrap(err, "")
	}
	if len(list) == 0 {
		return nil, hookd.Errorf(hookd.ENOTFOUND, "delivery %s not found", id)
	}
	return list[0], nil
}

// DeliveryList returns deliveries newest first.
func (s *Store) DeliveryList(ctx context.Context, f hookd.DeliveryFilter) ([]*hookd.Delivery, string, error) {
	before, err := beforeCursor(f.Cursor)
	if err != nil {
		return nil, "", err
	}
	limit := hookd.PageLimit(f.Limit)
	q := strings.Builder{}
	q.WriteString(`SELECT ` + DeliveryColumns + ` FROM deliveries WHERE project_id = ? AND seq < ?`)
	args := []any{f.ProjectID, before}
	if f.WebhookID != "" {
		q.WriteString(` AND webhook_id = ?`)
		args = append(args, f.WebhookID)
	}
	if f.EventID != "" {
		q.WriteString(` AND event_seq = (SELECT seq FROM events WHERE project_id = ? AND id = ?)`)
		args = append(args, f.ProjectID, f.EventID)
	}
	if f.State != "" {
		q.WriteString(` AND state = ?`)
		args = append(args, stateCodes[f.State])
	}
	q.WriteString(` ORDER BY seq DESC LIMIT ?`)
	args = append(args, limit+1)
	rows, err := s.query(ctx, q.String(), args...)
	if err != nil {
		return nil, "", s.wrap(err, "")
	}
	list, next, err := collect(rows, limit, scanDelivery)
	return list, next, s.wrap(err, "")
}

const attemptColumns = `a.seq, a.id, d.id, a.number, a.trigger_name, a.outcome, a.started_at, a.duration_ns,
	a.request_method, a.request_url, a.request_headers, a.request_body, a.response_status, a.response_headers,
	a.response_body, a.response_meta, a.error, e.type, e.data, e.timestamp`

type responseMeta struct {
	BodyEncoding string `json:"body_encoding,omitempty"`
	Truncated    bool   `json:"truncated,omitempty"`
}

func scanAttempt(sc scanner) (*hookd.Attempt, error) {
	var a hookd.Attempt
	var seq, started, dur, evTS int64
	var status int
	var trigger, reqHeaders, evType, evData string
	var reqBody, respHeaders, respBody, respMeta sql.NullString
	if err := sc.Scan(&seq, &a.ID, &a.DeliveryID, &a.Number, &trigger, &a.Outcome, &started, &dur,
		&a.Request.Method, &a.Request.URL, &reqHeaders, &reqBody, &status, &respHeaders, &respBody, &respMeta,
		&a.Error, &evType, &evData, &evTS); err != nil {
		return nil, err
	}
	a.Trigger, a.StartedAt, a.DurationMS = hookd.Trigger(trigger), fromNS(started), float64(dur)/1e6
	_ = json.Unmarshal([]byte(reqHeaders), &a.Request.Headers)
	if reqBody.Valid {
		a.Request.Body = reqBody.String
	} else {
		ev := hookd.Event{Type: evType, Data: []byte(evData), Timestamp: fromNS(evTS)}
		a.Request.Body, a.Request.BodyIsEnvelope = string(ev.Envelope()), true
	}
	if status != 0 {
		r := &hookd.AttemptResponse{Status: status, Body: respBody.String}
		_ = json.Unmarshal([]byte(respHeaders.String), &r.Headers)
		var m responseMeta
		_ = json.Unmarshal([]byte(respMeta.String), &m)
		r.BodyEncoding, r.Truncated = m.BodyEncoding, m.Truncated
		a.Response = r
	}
	return &a, nil
}

// AttemptList returns every attempt of a delivery, oldest first.
func (s *Store) AttemptList(ctx context.Context, projectID, deliveryID string) ([]*hookd.Attempt, error) {
	rows, err := s.query(ctx, `SELECT `+attemptColumns+` FROM attempts a
		JOIN deliveries d ON d.seq = a.delivery_seq JOIN events e ON e.seq = d.event_seq
		WHERE d.project_id = ? AND d.id = ? ORDER BY a.seq`, projectID, deliveryID)
	if err != nil {
		return nil, s.wrap(err, "")
	}
	defer rows.Close()
	var list []*hookd.Attempt
	for rows.Next() {
		a, err := scanAttempt(rows)
		if err != nil {
			return nil, s.wrap(err, "")
		}
		list = append(list, a)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap(err, "")
	}
	if len(list) == 0 { // no attempts yet, or no such delivery
		var one int
		err := s.queryRow(ctx, []any{&one}, `SELECT 1 FROM deliveries WHERE project_id = ? AND id = ?`, projectID, deliveryID)
		if err != nil {
			return nil, s.wrap(err, "delivery "+deliveryID+" not found")
		}
	}
	return list, nil
}

// DeliveryRetry makes a delivery due now for a manual attempt.
func (s *Store) DeliveryRetry(ctx context.Context, projectID, id string, now time.Time) (*hookd.Delivery, error) {
	var d *hookd.Delivery
	err := s.writers.do(ctx, func(w *wtx) error {
		var state int
		var owner, webhookID string
		var due sql.NullInt64
		err := w.queryRow([]any{&state, &owner, &due, &webhookID},
			`SELECT state, lease_owner, due_at, webhook_id FROM deliveries WHERE project_id = ? AND id = ?`, projectID, id)
		if err != nil {
			return s.wrap(err, "delivery "+id+" not found")
		}
		ordered, err := s.checkWebhookLive(w, webhookID)
		if err != nil {
			return err
		}
		switch {
		case state == 0 && owner != "": // being attempted right now
		case state == 0 && !due.Valid:
			return hookd.Errorf(hookd.ECONFLICT, "delivery %s waits for earlier deliveries of its ordered webhook", id)
		default:
			// A final delivery of an ordered webhook joins the chain (as its
			// oldest member it goes next) rather than running beside its head.
			chain := ordered && state != 0
			var dueAt any = ns(now)
			if chain {
				dueAt = nil
			}
			_, err = w.exec(`UPDATE deliveries SET state = 0, next_attempt_at = ?, due_at = ?, trigger_name = 'manual',
				completed_at = NULL, updated_at = ? WHERE project_id = ? AND id = ?`, ns(now), dueAt, ns(now), projectID, id)
			if err != nil {
				return s.wrap(err, "")
			}
			w.markDue()
			if chain {
				if err := s.promote(w, webhookID); err != nil {
					return err
				}
			}
		}
		rows, err := w.query(`SELECT `+DeliveryColumns+` FROM deliveries WHERE project_id = ? AND id = ?`, projectID, id)
		if err != nil {
			return s.wrap(err, "")
		}
		d, err = s.oneDelivery(rows, id)
		return err
	})
	return d, err
}

// checkWebhookLive returns ECONFLICT when a webhook was deleted or is
// disabled, and otherwise whether it is ordered.
func (s *Store) checkWebhookLive(w *wtx, webhookID string) (ordered bool, err error) {
	var active, ord int
	err = w.queryRow([]any{&active, &ord}, `SELECT active, ordered FROM webhooks WHERE id = ?`, webhookID)
	if errors.Is(err, sql.ErrNoRows) {
		return false, hookd.Errorf(hookd.ECONFLICT, "webhook %s was deleted", webhookID)
	}
	if err != nil {
		return false, s.wrap(err, "")
	}
	if active == 0 {
		return false, hookd.Errorf(hookd.ECONFLICT, "webhook %s is disabled; enable it first", webhookID)
	}
	return ord != 0, nil
}

// replayBatchSize is how many deliveries one write transaction of a
// replay updates, so that a replay of a long history never holds the
// writer (SQLite) or many row locks (PostgreSQL) for long.
const replayBatchSize = 1000

// DeliveryReplay makes due now the deliveries of one webhook created in
// [Since, Until) whose state is one of States (failed when empty), in
// batches of replayBatchSize deliveries (in seq order), one transaction
// each. It returns how many it made due, with ENOTFOUND when the webhook
// does not exist, or the error that stopped it (the batches before stay
// replayed).
func (s *Store) DeliveryReplay(ctx context.Context, p hookd.ReplayParams) (int, error) {
	states := make([]int, 0, len(p.States))
	for _, st := range p.States {
		states = append(states, stateCodes[st])
	}
	if len(states) == 0 {
		states = []int{stateCodes[hookd.StateFailed]}
	}
	total, after := 0, int64(0)
	for {
		var n, last int64
		err := s.writers.do(ctx, func(w *wtx) error {
			var err error
			n, last, err = s.replayBatch(w, p, jsonList(states), after)
			return err
		})
		total += int(n)
		if err != nil || last == 0 {
			return total, err
		}
		after = last
	}
}

// replayBatch replays the next batch of deliveries after seq after and
// returns how many it updated and the last seq it looked at (0 when none
// was left).
func (s *Store) replayBatch(w *wtx, p hookd.ReplayParams, states string, after int64) (n, last int64, err error) {
	var one int
	err = w.queryRow([]any{&one}, `SELECT 1 FROM webhooks WHERE project_id = ? AND id = ?`, p.ProjectID, p.WebhookID)
	if err != nil {
		return 0, 0, s.wrap(err, "webhook "+p.WebhookID+" not found")
	}
	ordered, err := s.checkWebhookLive(w, p.WebhookID)
	if err != nil {
		return 0, 0, err
	}
	const match = `webhook_id = ? AND seq > ? AND lease_owner = '' AND created_at >= ? AND created_at < ? AND state IN ({{int}})`
	var count int64
	err = w.queryRow([]any{&last, &count}, `SELECT COALESCE(max(seq), 0), count(*) FROM
		(SELECT seq FROM deliveries WHERE `+match+` ORDER BY seq LIMIT ?) AS batch`,
		p.WebhookID, after, ns(p.Since), ns(p.Until), states, replayBatchSize)
	if err != nil || count == 0 {
		return 0, 0, s.wrap(err, "")
	}
	var due any = ns(p.Now)
	if ordered {
		due = nil
	}
	n, err = w.execN(`UPDATE deliveries SET state = 0, next_attempt_at = ?, due_at = ?, trigger_name = 'manual',
		completed_at = NULL, updated_at = ? WHERE `+match+` AND seq <= ?`,
		ns(p.Now), due, ns(p.Now), p.WebhookID, after, ns(p.Since), ns(p.Until), states, last)
	if err != nil {
		return 0, 0, s.wrap(err, "")
	}
	w.markDue()
	if ordered {
		return n, last, s.promote(w, p.WebhookID)
	}
	return n, last, nil
}
