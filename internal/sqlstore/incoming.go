package sqlstore

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/hookd/hookd"
)

const incomingColumns = `seq, id, project_id, token, secret, doc, accepted, rejected, created_at, updated_at`

// incomingAD binds a sealed token or secret to its hook, so that sealed
// values cannot be moved to another hook in the database.
func incomingAD(id, what string) string { return "incoming:" + id + ":" + what }

// sealIncoming returns the hook's settings (JSON), sealed token and sealed secret.
func (s *Store) sealIncoming(h *hookd.IncomingHook) (doc, token, secret string, err error) {
	b, err := json.Marshal(h)
	if err != nil {
		return "", "", "", err
	}
	if token, err = s.seal(h.Token, incomingAD(h.ID, "token")); err != nil {
		return "", "", "", err
	}
	secret, err = s.seal(h.Verify.Secret, incomingAD(h.ID, "secret"))
	return string(b), token, secret, err
}

func (s *Store) scanIncoming(sc scanner) (*hookd.IncomingHook, int64, error) {
	var h hookd.IncomingHook
	var seq, accepted, rejected, created, updated int64
	var id, project, token, secret, doc string
	if err := sc.Scan(&seq, &id, &project, &token, &secret, &doc, &accepted, &rejected, &created, &updated); err != nil {
		return nil, 0, err
	}
	if err := json.Unmarshal([]byte(doc), &h); err != nil {
		return nil, 0, err
	}
	h.ID, h.ProjectID, h.Accepted, h.Rejected = id, project, accepted, rejected
	h.CreatedAt, h.UpdatedAt = fromNS(created), fromNS(updated)
	var err error
	if h.Token, err = s.open(token, incomingAD(id, "token")); err != nil {
		return nil, 0, err
	}
	if h.Verify.Secret, err = s.open(secret, incomingAD(id, "secret")); err != nil {
		return nil, 0, err
	}
	return &h, seq, nil
}

// IncomingCreate stores a new hook; ENOTFOUND when its project does not exist.
func (s *Store) IncomingCreate(ctx context.Context, h *hookd.IncomingHook) error {
	doc, token, secret, err := s.sealIncoming(h)
	if err != nil {
		return s.wrap(err, "")
	}
	return s.writers.do(ctx, func(w *wtx) error {
		if err := s.projectExists(w, h.ProjectID); err != nil {
			return err
		}
		_, err := w.exec(`INSERT INTO incoming_hooks (id, project_id, token_hash, token, secret, doc, accepted, rejected,
			created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 0, 0, ?, ?)`,
			h.ID, h.ProjectID, hookd.HashIncomingToken(h.Token), token, secret, doc, ns(h.CreatedAt), ns(h.UpdatedAt))
		return s.wrap(err, "")
	})
}

// incomingOne runs a query selecting incomingColumns and returns its one hook, or ENOTFOUND.
func (s *Store) incomingOne(ctx context.Context, notFound, query string, args ...any) (*hookd.IncomingHook, error) {
	rows, err := s.query(ctx, `SELECT `+incomingColumns+` FROM incoming_hooks WHERE `+query, args...)
	if err != nil {
		return nil, s.wrap(err, "")
	}
	list, _, err := collect(rows, 1, s.scanIncoming)
	if err != nil {
		return nil, s.wrap(err, "")
	}
	if len(list) == 0 {
		return nil, hookd.Errorf(hookd.ENOTFOUND, "%s", notFound)
	}
	return list[0], nil
}

// IncomingGet returns one hook with its token and secret.
func (s *Store) IncomingGet(ctx context.Context, projectID, id string) (*hookd.IncomingHook, error) {
	return s.incomingOne(ctx, "incoming hook "+id+" not found", `project_id = ? AND id = ?`, projectID, id)
}

// IncomingGetByToken returns the hook whose token is token, found by the
// token's hash (an index lookup, never a byte-by-byte comparison).
func (s *Store) IncomingGetByToken(ctx context.Context, token string) (*hookd.IncomingHook, error) {
	return s.incomingOne(ctx, "no incoming hook has this URL", `token_hash = ?`, hookd.HashIncomingToken(token))
}

// IncomingList returns a project's hooks, newest first.
func (s *Store) IncomingList(ctx context.Context, projectID string, page hookd.Page) ([]*hookd.IncomingHook, string, error) {
	before, err := beforeCursor(page.Cursor)
	if err != nil {
		return nil, "", err
	}
	limit := hookd.PageLimit(page.Limit)
	rows, err := s.query(ctx, `SELECT `+incomingColumns+` FROM incoming_hooks WHERE project_id = ? AND seq < ?
		ORDER BY seq DESC LIMIT ?`, projectID, before, limit+1)
	if err != nil {
		return nil, "", s.wrap(err, "")
	}
	list, next, err := collect(rows, limit, s.scanIncoming)
	return list, next, s.wrap(err, "")
}

// IncomingUpdate replaces a hook's settings and secret.
func (s *Store) IncomingUpdate(ctx context.Context, h *hookd.IncomingHook) error {
	doc, _, secret, err := s.sealIncoming(h)
	if err != nil {
		return s.wrap(err, "")
	}
	return s.writers.do(ctx, func(w *wtx) error {
		n, err := w.execN(`UPDATE incoming_hooks SET doc = ?, secret = ?, updated_at = ? WHERE project_id = ? AND id = ?`,
			doc, secret, ns(h.UpdatedAt), h.ProjectID, h.ID)
		return rowsOrNotFound(s, n, err, "incoming hook "+h.ID+" not found")
	})
}

// IncomingDelete deletes a hook with its request log and remembered delivery ids.
func (s *Store) IncomingDelete(ctx context.Context, projectID, id string) error {
	return s.writers.do(ctx, func(w *wtx) error {
		n, err := w.execN(`DELETE FROM incoming_hooks WHERE project_id = ? AND id = ?`, projectID, id)
		if err := rowsOrNotFound(s, n, err, "incoming hook "+id+" not found"); err != nil {
			return err
		}
		if _, err := w.exec(`DELETE FROM incoming_requests WHERE hook_id = ?`, id); err != nil {
			return s.wrap(err, "")
		}
		_, err = w.exec(`DELETE FROM incoming_dedupe WHERE hook_id = ?`, id)
		return s.wrap(err, "")
	})
}

// IncomingRotateToken gives a hook a new token; the old one no longer finds it.
func (s *Store) IncomingRotateToken(ctx context.Context, projectID, id, token string, now time.Time) error {
	sealed, err := s.seal(token, incomingAD(id, "token"))
	if err != nil {
		return s.wrap(err, "")
	}
	return s.writers.do(ctx, func(w *wtx) error {
		n, err := w.execN(`UPDATE incoming_hooks SET token_hash = ?, token = ?, updated_at = ? WHERE project_id = ? AND id = ?`,
			hookd.HashIncomingToken(token), sealed, ns(now), projectID, id)
		return rowsOrNotFound(s, n, err, "incoming hook "+id+" not found")
	})
}

// IncomingPublish dedupes, publishes and logs an accepted request in one transaction.
func (s *Store) IncomingPublish(ctx context.Context, p hookd.IncomingPublishParams) (*hookd.PublishResult, error) {
	var res *hookd.PublishResult
	err := s.writers.do(ctx, func(w *wtx) error {
		req := p.Request
		if err := s.countIncoming(w, req, "accepted", 1); err != nil {
			return err
		}
		first, err := s.rememberDelivery(w, p)
		if err != nil {
			return err
		}
		if first != "" {
			res = &hookd.PublishResult{Event: &hookd.Event{ID: first, ProjectID: req.ProjectID}, Duplicate: true}
			req.Outcome, req.EventID = hookd.OutcomeDuplicate, first
		} else {
			if res, err = s.publish(w, p.Publish); err != nil {
				return err
			}
			req.Outcome, req.EventID = hookd.OutcomeAccepted, res.Event.ID
		}
		return s.logRequest(w, req)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// rememberDelivery records the sender's delivery id of p with the event
// about to be published, and returns "" — or, when the id was seen since
// p.DedupeSince, the id of the event published then (a duplicate). It also
// forgets the hook's delivery ids older than the window.
func (s *Store) rememberDelivery(w *wtx, p hookd.IncomingPublishParams) (string, error) {
	if p.DeliveryID == "" {
		return "", nil
	}
	req, since := p.Request, ns(p.DedupeSince)
	if _, err := w.exec(`DELETE FROM incoming_dedupe WHERE hook_id = ? AND seen_at < ? AND delivery_id <> ?`,
		req.HookID, since, p.DeliveryID); err != nil {
		return "", s.wrap(err, "")
	}
	rows, err := w.query(`INSERT INTO incoming_dedupe (hook_id, project_id, delivery_id, event_id, seen_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (hook_id, delivery_id)
		DO UPDATE SET event_id = excluded.event_id, seen_at = excluded.seen_at WHERE incoming_dedupe.seen_at < ?
		RETURNING seq`, req.HookID, req.ProjectID, p.DeliveryID, p.Publish.Event.ID, ns(req.Time), since)
	if err != nil {
		return "", s.wrap(err, "")
	}
	var seq int64
	fresh, err := scanOneInt(rows, &seq)
	if err != nil || fresh {
		return "", s.wrap(err, "")
	}
	var first string
	err = w.queryRow([]any{&first}, `SELECT event_id FROM incoming_dedupe WHERE hook_id = ? AND delivery_id = ?`,
		req.HookID, p.DeliveryID)
	return first, s.wrap(err, "")
}

// IncomingRecord logs a refused request and counts it as rejected.
func (s *Store) IncomingRecord(ctx context.Context, r *hookd.IncomingRequest) error {
	return s.writers.do(ctx, func(w *wtx) error {
		if err := s.countIncoming(w, r, "rejected", 1+int64(max(r.Repeats, 0))); err != nil {
			return err
		}
		return s.logRequest(w, r)
	})
}

// countIncoming adds n to a hook's counter column (accepted or rejected);
// ENOTFOUND when the hook no longer exists.
func (s *Store) countIncoming(w *wtx, r *hookd.IncomingRequest, column string, n int64) error {
	c, err := w.execN(`UPDATE incoming_hooks SET `+column+` = `+column+` + ? WHERE project_id = ? AND id = ?`,
		n, r.ProjectID, r.HookID)
	return rowsOrNotFound(s, c, err, "incoming hook "+r.HookID+" not found")
}

// pruneRequests keeps the newest IncomingRequestsKept entries of a hook.
var pruneRequests = `DELETE FROM incoming_requests WHERE hook_id = ? AND seq <= (SELECT seq FROM incoming_requests
	WHERE hook_id = ? ORDER BY seq DESC LIMIT 1 OFFSET ` + strconv.Itoa(hookd.IncomingRequestsKept) + `)`

// logRequest appends r to its hook's log and drops the oldest entries.
func (s *Store) logRequest(w *wtx, r *hookd.IncomingRequest) error {
	if r.ID == "" {
		r.ID = hookd.NewID(hookd.PrefixIncomingRequest, r.Time)
	}
	if r.Headers == nil {
		r.Headers = map[string]string{}
	}
	doc, err := json.Marshal(r)
	if err != nil {
		return s.wrap(err, "")
	}
	if _, err := w.exec(`INSERT INTO incoming_requests (hook_id, project_id, doc, created_at) VALUES (?, ?, ?, ?)`,
		r.HookID, r.ProjectID, string(doc), ns(r.Time)); err != nil {
		return s.wrap(err, "")
	}
	_, err = w.exec(pruneRequests, r.HookID, r.HookID)
	return s.wrap(err, "")
}

// IncomingRequests returns a hook's request log, newest first.
func (s *Store) IncomingRequests(ctx context.Context, projectID, hookID string, page hookd.Page) ([]*hookd.IncomingRequest, string, error) {
	before, err := beforeCursor(page.Cursor)
	if err != nil {
		return nil, "", err
	}
	var one int
	if err := s.queryRow(ctx, []any{&one}, `SELECT 1 FROM incoming_hooks WHERE project_id = ? AND id = ?`,
		projectID, hookID); err != nil {
		return nil, "", s.wrap(err, "incoming hook "+hookID+" not found")
	}
	limit := hookd.PageLimit(page.Limit)
	rows, err := s.query(ctx, `SELECT seq, project_id, doc FROM incoming_requests WHERE hook_id = ? AND seq < ?
		ORDER BY seq DESC LIMIT ?`, hookID, before, limit+1)
	if err != nil {
		return nil, "", s.wrap(err, "")
	}
	list, next, err := collect(rows, limit, scanIncomingRequest)
	return list, next, s.wrap(err, "")
}

func scanIncomingRequest(sc scanner) (*hookd.IncomingRequest, int64, error) {
	var seq int64
	var project, doc string
	if err := sc.Scan(&seq, &project, &doc); err != nil {
		return nil, 0, err
	}
	var r hookd.IncomingRequest
	if err := json.Unmarshal([]byte(doc), &r); err != nil {
		return nil, 0, err
	}
	r.ProjectID = project
	return &r, seq, nil
}
