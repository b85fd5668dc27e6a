package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/hookd/hookd"
)

const webhookColumns = `seq, id, project_id, active, ordered, disabled_reason, doc, secret, previous_secret,
	previous_secret_expires_at, failure_streak, failing_since, created_at, updated_at`

// webhookRow holds a webhook's columns as stored (secrets sealed).
type webhookRow struct {
	doc, secret, previous string
}

func (s *Store) sealWebhook(w *hookd.Webhook) (webhookRow, error) {
	doc, err := json.Marshal(w)
	if err != nil {
		return webhookRow{}, err
	}
	r := webhookRow{doc: string(doc)}
	if r.secret, err = s.seal(w.Secret, "webhook:"+w.ID+":secret"); err != nil {
		return r, err
	}
	r.previous, err = s.seal(w.PreviousSecret, "webhook:"+w.ID+":previous")
	return r, err
}

func (s *Store) seal(plain, ad string) (string, error) {
	if plain == "" {
		return "", nil
	}
	return s.sealer.Seal(plain, ad)
}

func (s *Store) open(sealed, ad string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	return s.sealer.Open(sealed, ad)
}

func (s *Store) scanWebhook(sc scanner) (*hookd.Webhook, int64, error) {
	var w hookd.Webhook
	var seq, created, updated int64
	var active, ordered int
	var doc, secret, previous string
	var prevExp, failingSince sql.NullInt64
	if err := sc.Scan(&seq, &w.ID, &w.ProjectID, &active, &ordered, &w.DisabledReason, &doc, &secret, &previous,
		&prevExp, &w.FailureStreak, &failingSince, &created, &updated); err != nil {
		return nil, 0, err
	}
	id, project, reason, streak := w.ID, w.ProjectID, w.DisabledReason, w.FailureStreak
	if err := json.Unmarshal([]byte(doc), &w); err != nil {
		return nil, 0, err
	}
	w.ID, w.ProjectID, w.DisabledReason, w.FailureStreak = id, project, reason, streak
	w.Active, w.Ordered = active != 0, ordered != 0
	w.CreatedAt, w.UpdatedAt = fromNS(created), fromNS(updated)
	w.PreviousSecretExpiresAt, w.FailingSince = fromNull(prevExp), fromNull(failingSince)
	var err error
	if w.Secret, err = s.open(secret, "webhook:"+w.ID+":secret"); err != nil {
		return nil, 0, err
	}
	if w.PreviousSecret, err = s.open(previous, "webhook:"+w.ID+":previous"); err != nil {
		return nil, 0, err
	}
	return &w, seq, nil
}

// WebhookCreate stores a new webhook; ENOTFOUND when its project does not exist.
func (s *Store) WebhookCreate(ctx context.Context, wh *hookd.Webhook) error {
	row, err := s.sealWebhook(wh)
	if err != nil {
		return s.wrap(err, "")
	}
	return s.writers.do(ctx, func(w *wtx) error {
		if err := s.bumpVersion(w, wh.ProjectID); err != nil {
			return err
		}
		_, err := w.exec(`INSERT INTO webhooks (id, project_id, active, ordered, disabled_reason, doc, secret,
			previous_secret, previous_secret_expires_at, failure_streak, failing_since, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, NULL, ?, ?)`,
			wh.ID, wh.ProjectID, b2i(wh.Active), b2i(wh.Ordered), wh.DisabledReason, row.doc, row.secret,
			row.previous, nsPtr(wh.PreviousSecretExpiresAt), ns(wh.CreatedAt), ns(wh.UpdatedAt))
		return s.wrap(err, "")
	})
}

// bumpVersion marks a project's webhooks as changed, so fan-out indexes are rebuilt.
func (s *Store) bumpVersion(w *wtx, projectID string) error {
	w.versions = nil
	n, err := w.execN(`UPDATE projects SET webhooks_version = webhooks_version + 1 WHERE id = ?`, projectID)
	return rowsOrNotFound(s, n, err, "project "+projectID+" not found")
}

// WebhookGet returns one webhook with its secrets, or ENOTFOUND.
func (s *Store) WebhookGet(ctx context.Context, projectID, id string) (*hookd.Webhook, error) {
	rows, err := s.query(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE project_id = ? AND id = ?`, projectID, id)
	if err != nil {
		return nil, s.wrap(err, "")
	}
	list, _, err := collect(rows, 1, s.scanWebhook)
	if err != nil {
		return nil, s.wrap(err, "")
	}
	if len(list) == 0 {
		return nil, hookd.Errorf(hookd.ENOTFOUND, "webhook %s not found", id)
	}
	return list[0], nil
}

// WebhookList returns a project's webhooks, newest first.
func (s *Store) WebhookList(ctx context.Context, projectID string, page hookd.Page) ([]*hookd.Webhook, string, error) {
	before, err := beforeCursor(page.Cursor)
	if err != nil {
		return nil, "", err
	}
	limit := hookd.PageLimit(page.Limit)
	rows, err := s.query(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE project_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?`,
		projectID, before, limit+1)
	if err != nil {
		return nil, "", s.wrap(err, "")
	}
	list, next, err := collect(rows, limit, s.scanWebhook)
	return list, next, s.wrap(err, "")
}

// WebhookUpdate replaces a webhook's settings and secrets and reschedules
// its pending deliveries when Active or Ordered changed.
func (s *Store) WebhookUpdate(ctx context.Context, wh *hookd.Webhook) error {
	row, err := s.sealWebhook(wh)
	if err != nil {
		return s.wrap(err, "")
	}
	return s.writers.do(ctx, func(w *wtx) error {
		var active, ordered int
		err := w.queryRow([]any{&active, &ordered}, `SELECT active, ordered FROM webhooks WHERE project_id = ? AND id = ?`,
			wh.ProjectID, wh.ID)
		if err != nil {
			return s.wrap(err, "webhook "+wh.ID+" not found")
		}
		_, err = w.exec(`UPDATE webhooks SET active = ?, ordered = ?, disabled_reason = ?, doc = ?, secret = ?,
			previous_secret = ?, previous_secret_expires_at = ?, updated_at = ? WHERE id = ?`,
			b2i(wh.Active), b2i(wh.Ordered), wh.DisabledReason, row.doc, row.secret, row.previous,
			nsPtr(wh.PreviousSecretExpiresAt), ns(wh.UpdatedAt), wh.ID)
		if err != nil {
			return s.wrap(err, "")
		}
		if err := s.bumpVersion(w, wh.ProjectID); err != nil {
			return err
		}
		if (active != 0) != wh.Active || (ordered != 0) != wh.Ordered {
			if wh.Active && active == 0 { // re-enabled: a fresh start for the failure streak
				if _, err := w.exec(`UPDATE webhooks SET failure_streak = 0, failing_since = NULL WHERE id = ?`, wh.ID); err != nil {
					return s.wrap(err, "")
				}
			}
			return s.reschedule(w, wh.ID, wh.Active, wh.Ordered)
		}
		return nil
	})
}

// reschedule re-establishes the invariant on a webhook's pending, unleased
// deliveries: none is due while the webhook is disabled; all are due when it
// is active and unordered; only the oldest is due when it is ordered.
func (s *Store) reschedule(w *wtx, webhookID string, active, ordered bool) error {
	q := `UPDATE deliveries SET due_at = NULL WHERE webhook_id = ? AND state = 0 AND lease_owner = ''`
	if active && !ordered {
		q = `UPDATE deliveries SET due_at = next_attempt_at WHERE webhook_id = ? AND state = 0 AND lease_owner = ''`
	}
	if _, err := w.exec(q, webhookID); err != nil {
		return s.wrap(err, "")
	}
	w.markDue()
	if active && ordered {
		return s.promote(w, webhookID)
	}
	return nil
}

// promote makes the oldest pending delivery of an ordered webhook due when
// none of its deliveries is due or leased (the head finished).
func (s *Store) promote(w *wtx, webhookID string) error {
	if _, err := w.exec(s.d.LockWebhook, webhookID); err != nil {
		return s.wrap(err, "")
	}
	n, err := w.execN(`UPDATE deliveries SET due_at = next_attempt_at
		WHERE seq = (SELECT min(seq) FROM deliveries WHERE webhook_id = ? AND state = 0)
		  AND due_at IS NULL AND lease_owner = ''
		  AND NOT EXISTS (SELECT 1 FROM deliveries WHERE webhook_id = ? AND state = 0 AND due_at IS NOT NULL)
		  AND EXISTS (SELECT 1 FROM webhooks WHERE id = ? AND active = 1)`, webhookID, webhookID, webhookID)
	if err != nil {
		return s.wrap(err, "")
	}
	if n > 0 {
		w.markDue()
	}
	return nil
}

// WebhookDelete deletes a webhook and cancels its pending deliveries.
func (s *Store) WebhookDelete(ctx context.Context, projectID, id string, now time.Time) error {
	return s.writers.do(ctx, func(w *wtx) error {
		n, err := w.execN(`DELETE FROM webhooks WHERE project_id = ? AND id = ?`, projectID, id)
		if err := rowsOrNotFound(s, n, err, "webhook "+id+" not found"); err != nil {
			return err
		}
		_, err = w.exec(`UPDATE deliveries SET state = 3, due_at = NULL, next_attempt_at = NULL, lease_owner = '',
			lease_token = 0, completed_at = ?, updated_at = ?, last_error = 'webhook deleted'
			WHERE webhook_id = ? AND state = 0`, ns(now), ns(now), id)
		if err != nil {
			return s.wrap(err, "")
		}
		return s.bumpVersion(w, projectID)
	})
}

// WebhookIndex returns the current fan-out index of a project.
func (s *Store) WebhookIndex(ctx context.Context, projectID string) (*hookd.Index, error) {
	var version int64
	if err := s.queryRow(ctx, []any{&version}, `SELECT webhooks_version FROM projects WHERE id = ?`, projectID); err != nil {
		return nil, s.wrap(err, "project "+projectID+" not found")
	}
	return s.index.Get(projectID, version, func() ([]*hookd.Webhook, error) {
		rows, err := s.query(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE project_id = ? ORDER BY seq`, projectID)
		if err != nil {
			return nil, s.wrap(err, "")
		}
		list, _, err := collect(rows, 1<<30, s.scanWebhook)
		return list, s.wrap(err, "")
	})
}

// indexInTx is WebhookIndex inside a write transaction.
func (s *Store) indexInTx(w *wtx, projectID string) (*hookd.Index, error) {
	version, err := w.webhooksVersion(projectID)
	if err != nil {
		return nil, err
	}
	return s.index.Get(projectID, version, func() ([]*hookd.Webhook, error) {
		rows, err := w.query(`SELECT `+webhookColumns+` FROM webhooks WHERE project_id = ? ORDER BY seq`, projectID)
		if err != nil {
			return nil, s.wrap(err, "")
		}
		list, _, err := collect(rows, 1<<30, s.scanWebhook)
		return list, s.wrap(err, "")
	})
}

// webhooksVersion returns the project's webhooks_version, read once per
// transaction while only publishes run in it.
func (w *wtx) webhooksVersion(projectID string) (int64, error) {
	if v, ok := w.versions[projectID]; ok {
		return v, nil
	}
	var version int64
	if err := w.queryRow([]any{&version}, `SELECT webhooks_version FROM projects WHERE id = ?`, projectID); err != nil {
		return 0, w.s.wrap(err, "project "+projectID+" not found")
	}
	if w.versions == nil {
		w.versions = map[string]int64{}
	}
	w.versions[projectID] = version
	return version, nil
}
