package sqlstore

import (
	"github.com/hookd/hookd"
)

// publishCTE inserts an event and its deliveries in one statement (one
// round trip on PostgreSQL), provided the project's webhooks_version is
// the one the deliveries were planned with. The deliveries are selected
// from the inserted event, so a duplicate event (ON CONFLICT DO NOTHING)
// or a changed version inserts none. The deliveries' own columns come as
// parallel arrays, in the targets' order. It returns no row when the
// project does not exist, else one row per delivery (one with NULL event
// and delivery columns when nothing was inserted, with NULL delivery
// columns when there were no targets), each with the current version.
const publishCTE = `WITH v AS (
	SELECT webhooks_version FROM projects WHERE id = ?
), e AS (
	INSERT INTO events (id, project_id, type, data, timestamp, idempotency_key, fingerprint, created_at, traceparent)
	SELECT CAST(? AS text), CAST(? AS text), CAST(? AS text), CAST(? AS text), CAST(? AS bigint), CAST(? AS text),
		CAST(? AS bytea), CAST(? AS bigint), CAST(? AS text)
	FROM v WHERE v.webhooks_version = ?
	ON CONFLICT DO NOTHING
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
SELECT v.webhooks_version, e.seq, d.seq, d.id FROM v LEFT JOIN e ON true LEFT JOIN d ON true`

// maxPlans bounds how many times a publish plans its deliveries again
// because the project's webhooks changed meanwhile (on another node).
const maxPlans = 4

// insertPublish plans the event's deliveries from the cached webhooks
// index, when there is one, and inserts the event and its deliveries with
// publishCTE, which checks the index's version in the same statement: no
// separate SELECT of the version. When the version has changed, nothing
// was inserted, and it plans again from the index of the current version.
// It reports false for a duplicate event.
func (s *Store) insertPublish(w *wtx, p hookd.PublishParams) ([]plannedDelivery, bool, error) {
	ev := p.Event
	for range maxPlans {
		ix, targets, err := s.publishPlan(w, ev, p.Only)
		if err != nil {
			return nil, false, err
		}
		plans := planDeliveries(ev, targets, p)
		version, inserted, err := s.execPublishCTE(w, p, ix.Version, plans)
		if err != nil {
			return nil, false, err
		}
		if w.versions == nil {
			w.versions = map[string]int64{}
		}
		w.versions[ev.ProjectID] = version
		if version == ix.Version {
			return plans, inserted, nil
		}
	}
	return nil, false, hookd.Errorf(hookd.EUNAVAILABLE, "the webhooks of project %s keep changing", ev.ProjectID)
}

// publishPlan returns the webhooks index to plan a publish with and the
// publish's targets: the index of the version read earlier in this
// transaction, else the cached one, whatever its version (publishCTE
// checks it), else one read now. A target missing from the cached index
// (p.Only) is looked for again in the current one.
func (s *Store) publishPlan(w *wtx, ev *hookd.Event, only string) (*hookd.Index, []*hookd.Webhook, error) {
	if _, ok := w.versions[ev.ProjectID]; !ok {
		if ix := s.index.Peek(ev.ProjectID); ix != nil {
			if targets, err := publishTargets(ix, ev, only); err == nil {
				return ix, targets, nil
			}
		}
	}
	ix, err := s.indexInTx(w, ev.ProjectID)
	if err != nil {
		return nil, nil, err
	}
	targets, err := publishTargets(ix, ev, only)
	return ix, targets, err
}

// execPublishCTE runs publishCTE for the planned deliveries and sets the
// seqs of the event and deliveries it inserted. It returns the project's
// current webhooks_version and whether the event was inserted.
func (s *Store) execPublishCTE(w *wtx, p hookd.PublishParams, version int64, plans []plannedDelivery) (int64, bool, error) {
	rows, err := w.query(publishCTE, publishCTEArgs(p, version, plans)...)
	if err != nil {
		return 0, false, s.wrap(err, "")
	}
	defer rows.Close()
	r := newPublishRows(p.Event, plans)
	for rows.Next() {
		if err := r.row(rows.Scan); err != nil {
			return 0, false, s.wrap(err, "")
		}
	}
	if err := rows.Err(); err != nil {
		return 0, false, s.wrap(err, "")
	}
	if err := r.check(); err != nil {
		return 0, false, err
	}
	return r.current, r.inserted, s.wrap(rows.Close(), "")
}

// publishCTEArgs returns the parameters of publishCTE for the event of p
// planned with the webhooks index of version.
func publishCTEArgs(p hookd.PublishParams, version int64, plans []plannedDelivery) []any {
	ev := p.Event
	ids := make([]string, len(plans))
	hooks := make([]string, len(plans))
	dues := make([]*int64, len(plans))
	owners := make([]string, len(plans))
	tokens := make([]int64, len(plans))
	for i, pd := range plans {
		ids[i], hooks[i], owners[i], tokens[i] = pd.d.ID, pd.wh.ID, pd.owner, pd.d.LeaseToken
		if pd.due != nil {
			due := ns(*pd.due)
			dues[i] = &due
		}
	}
	trigger := string(p.Trigger)
	if trigger == "" {
		trigger = string(hookd.TriggerAuto)
	}
	return []any{ev.ProjectID, ev.ID, ev.ProjectID, ev.Type, string(ev.Data), ns(ev.Timestamp),
		idempotencyKey(ev), p.Fingerprint, ns(ev.CreatedAt), nullString(ev.TraceParent), version,
		trigger, ns(p.Now), ns(p.Now), ns(p.Now), ids, hooks, dues, owners, tokens}
}

// publishRows reads the rows publishCTE returns: it sets the seqs of the
// event and of the deliveries inserted, and keeps the project's current
// webhooks_version.
type publishRows struct {
	ev       *hookd.Event
	byID     map[string]*hookd.Delivery
	want     int
	current  int64
	found    bool // the project exists
	inserted bool // the event was inserted (not a duplicate, same version)
	n        int  // deliveries inserted
}

func newPublishRows(ev *hookd.Event, plans []plannedDelivery) *publishRows {
	r := &publishRows{ev: ev, byID: make(map[string]*hookd.Delivery, len(plans)), want: len(plans)}
	for _, pd := range plans {
		r.byID[pd.d.ID] = pd.d
	}
	return r
}

// row reads one row with scan. It returns scan's error, or an error when
// the row names a delivery that was not planned.
func (r *publishRows) row(scan func(dest ...any) error) error {
	var seq, dseq *int64
	var id *string
	if err := scan(&r.current, &seq, &dseq, &id); err != nil {
		return err
	}
	r.found = true
	if seq != nil {
		r.inserted, r.ev.Seq = true, *seq
	}
	if id != nil {
		d := r.byID[*id]
		if d == nil {
			return hookd.Errorf(hookd.EINTERNAL, "publish returned delivery %s, which it did not plan", *id)
		}
		d.Seq = *dseq
		r.n++
	}
	return nil
}

// check returns ENOTFOUND when the project does not exist and EINTERNAL
// when the event was inserted with fewer deliveries than planned.
func (r *publishRows) check() error {
	if !r.found {
		return hookd.Errorf(hookd.ENOTFOUND, "project %s not found", r.ev.ProjectID)
	}
	if r.inserted && r.n != r.want {
		return hookd.Errorf(hookd.EINTERNAL, "publish inserted %d deliveries of %d", r.n, r.want)
	}
	return nil
}

// publishPipe is a publish as one pipelined statement (see pipeOp):
// publishCTE with the deliveries planned from the cached webhooks index.
// A publish without a cached index, with an error to report, with an
// ordered webhook whose delivery waits for promote, or whose statement
// inserted nothing (a duplicate, a project whose webhooks changed) runs as
// a transaction of its own instead.
type publishPipe struct {
	s     *Store
	p     hookd.PublishParams
	op    *writeOp
	res   **hookd.PublishResult
	ix    *hookd.Index
	plans []plannedDelivery
	rows  *publishRows
}

func (pp *publishPipe) stmt() (PipeStmt, bool, bool) {
	ev := pp.p.Event
	ix := pp.s.index.Peek(ev.ProjectID)
	if ix == nil {
		return PipeStmt{}, false, false
	}
	targets, err := publishTargets(ix, ev, pp.p.Only)
	if err != nil {
		return PipeStmt{}, false, false
	}
	plans := planDeliveries(ev, targets, pp.p)
	due := false
	for _, pd := range plans {
		if pd.wh.Ordered && pd.owner == "" {
			return PipeStmt{}, false, false
		}
		due = due || pd.markDue
	}
	pp.ix, pp.plans, pp.rows = ix, plans, newPublishRows(ev, plans)
	st := PipeStmt{Query: pp.s.publishCTESQL, Args: publishCTEArgs(pp.p, ix.Version, plans), Row: pp.rows.row}
	return st, due, true
}

func (pp *publishPipe) finish() bool {
	r := pp.rows
	if !r.found || !r.inserted || r.current != pp.ix.Version {
		return false
	}
	if err := r.check(); err != nil {
		pp.op.err = err
		return true
	}
	*pp.res, pp.op.due = publishResult(pp.p.Event, pp.plans)
	return true
}
