package sqlstore

import (
	"github.com/hookd/hookd"
)

// publishCTE inserts an event and its deliveries in one statement (one
// round trip on PostgreSQL): the deliveries are selected from the inserted
// event, so a duplicate event (ON CONFLICT DO NOTHING) inserts none. The
// deliveries' own columns come as parallel arrays, in the targets' order.
// It returns one row per delivery (one with NULL delivery columns when
// there are no targets), or none for a duplicate.
const publishCTE = `WITH e AS (
	INSERT INTO events (id, project_id, type, data, timestamp, idempotency_key, fingerprint, created_at, traceparent)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
	RETURNING seq, id, project_id, type
), d AS (
	INSERT INTO deliveries (id, project_id, event_seq, event_id, event_type, webhook_id, state,
		trigger_name, next_attempt_at, due_at, lease_owner, lease_token, created_at, updated_at)
	SELECT t.id, e.project_id, e.seq, e.id, e.type, t.webhook_id, 0, ?, ?, t.due_at, t.owner, t.token, ?, ?
	FROM e, unnest(CAST(? AS text[]), CAST(? AS text[]), CAST(? AS bigint[]), CAST(? AS text[]), CAST(? AS bigint[]))
		WITH ORDINALITY AS t(id, webhook_id, due_at, owner, token, ord)
	ORDER BY t.ord
	RETURNING seq, id
)
SELECT e.seq, d.seq, d.id FROM e LEFT JOIN d ON true`

// insertPublish inserts the event and its planned deliveries with
// publishCTE, sets their seqs, and reports whether the event was inserted
// (false: a duplicate).
func (s *Store) insertPublish(w *wtx, ev *hookd.Event, fingerprint []byte, plans []plannedDelivery) (bool, error) {
	ids := make([]string, len(plans))
	hooks := make([]string, len(plans))
	dues := make([]*int64, len(plans))
	owners := make([]string, len(plans))
	tokens := make([]int64, len(plans))
	byID := make(map[string]*hookd.Delivery, len(plans))
	for i, pd := range plans {
		ids[i], hooks[i], owners[i], tokens[i] = pd.d.ID, pd.wh.ID, pd.owner, pd.d.LeaseToken
		if pd.due != nil {
			due := ns(*pd.due)
			dues[i] = &due
		}
		byID[pd.d.ID] = pd.d
	}
	var trigger string
	now := ev.CreatedAt
	if len(plans) > 0 {
		trigger, now = string(plans[0].d.Trigger), plans[0].d.CreatedAt
	}
	rows, err := w.query(publishCTE, ev.ID, ev.ProjectID, ev.Type, string(ev.Data), ns(ev.Timestamp), idempotencyKey(ev),
		fingerprint, ns(ev.CreatedAt), nullString(ev.TraceParent),
		trigger, ns(now), ns(now), ns(now), ids, hooks, dues, owners, tokens)
	if err != nil {
		return false, s.wrap(err, "")
	}
	defer rows.Close()
	inserted, n := false, 0
	for rows.Next() {
		var seq, dseq *int64
		var id *string
		if err := rows.Scan(&seq, &dseq, &id); err != nil {
			return false, s.wrap(err, "")
		}
		inserted, ev.Seq = true, *seq
		if id != nil {
			byID[*id].Seq = *dseq
			n++
		}
	}
	if err := rows.Err(); err != nil {
		return false, s.wrap(err, "")
	}
	if inserted && n != len(plans) {
		return false, hookd.Errorf(hookd.EINTERNAL, "publish inserted %d deliveries of %d", n, len(plans))
	}
	return inserted, s.wrap(rows.Close(), "")
}
