package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/hookd/hookd"
)

type projectDoc struct {
	Description string            `json:"description,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
}

// ProjectCreate stores a new project; ECONFLICT when the id exists.
func (s *Store) ProjectCreate(ctx context.Context, p *hookd.Project) error {
	doc, _ := json.Marshal(projectDoc{p.Description, p.Metadata})
	return s.writers.do(ctx, func(w *wtx) error {
		_, err := w.exec(`INSERT INTO projects (id, name, doc, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
			p.ID, p.Name, string(doc), ns(p.CreatedAt), ns(p.UpdatedAt))
		return s.wrap(err, "")
	})
}

const projectColumns = `seq, id, name, doc, created_at, updated_at`

func scanProject(sc scanner) (*hookd.Project, int64, error) {
	var p hookd.Project
	var seq, created, updated int64
	var doc string
	if err := sc.Scan(&seq, &p.ID, &p.Name, &doc, &created, &updated); err != nil {
		return nil, 0, err
	}
	var d projectDoc
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return nil, 0, err
	}
	p.Description, p.Metadata = d.Description, d.Metadata
	p.CreatedAt, p.UpdatedAt = fromNS(created), fromNS(updated)
	return &p, seq, nil
}

// ProjectGet returns one project, or ENOTFOUND.
func (s *Store) ProjectGet(ctx context.Context, id string) (*hookd.Project, error) {
	rows, err := s.query(ctx, `SELECT `+projectColumns+` FROM projects WHERE id = ?`, id)
	if err != nil {
		return nil, s.wrap(err, "")
	}
	list, _, err := collect(rows, 1, scanProject)
	if err != nil {
		return nil, s.wrap(err, "")
	}
	if len(list) == 0 {
		return nil, hookd.Errorf(hookd.ENOTFOUND, "project %s not found", id)
	}
	return list[0], nil
}

// ProjectList returns projects newest first.
func (s *Store) ProjectList(ctx context.Context, page hookd.Page) ([]*hookd.Project, string, error) {
	before, err := beforeCursor(page.Cursor)
	if err != nil {
		return nil, "", err
	}
	limit := hookd.PageLimit(page.Limit)
	rows, err := s.query(ctx, `SELECT `+projectColumns+` FROM projects WHERE seq < ? ORDER BY seq DESC LIMIT ?`, before, limit+1)
	if err != nil {
		return nil, "", s.wrap(err, "")
	}
	list, next, err := collect(rows, limit, scanProject)
	return list, next, s.wrap(err, "")
}

// ProjectUpdate replaces a project's name, description and metadata.
func (s *Store) ProjectUpdate(ctx context.Context, p *hookd.Project) error {
	doc, _ := json.Marshal(projectDoc{p.Description, p.Metadata})
	return s.writers.do(ctx, func(w *wtx) error {
		n, err := w.execN(`UPDATE projects SET name = ?, doc = ?, updated_at = ? WHERE id = ?`,
			p.Name, string(doc), ns(p.UpdatedAt), p.ID)
		return rowsOrNotFound(s, n, err, "project "+p.ID+" not found")
	})
}

// projectTables lists the tables holding a project's objects, in the order
// ProjectDelete empties them.
var projectTables = []string{
	`DELETE FROM attempts WHERE delivery_seq IN (SELECT seq FROM deliveries WHERE project_id = ?)`,
	`DELETE FROM deliveries WHERE project_id = ?`,
	`DELETE FROM events WHERE project_id = ?`,
	`DELETE FROM webhooks WHERE project_id = ?`,
	`DELETE FROM event_types WHERE project_id = ?`,
	`DELETE FROM sessions WHERE project_id = ?`,
	`DELETE FROM api_keys WHERE project_id = ?`,
	`DELETE FROM secrets WHERE project_id = ?`,
	`DELETE FROM incoming_requests WHERE project_id = ?`,
	`DELETE FROM incoming_dedupe WHERE project_id = ?`,
	`DELETE FROM incoming_hooks WHERE project_id = ?`,
}

// ProjectDelete deletes a project and everything in it.
func (s *Store) ProjectDelete(ctx context.Context, id string) error {
	err := s.writers.do(ctx, func(w *wtx) error {
		n, err := w.execN(`DELETE FROM projects WHERE id = ?`, id)
		if err := rowsOrNotFound(s, n, err, "project "+id+" not found"); err != nil {
			return err
		}
		for _, q := range projectTables {
			if _, err := w.exec(q, id); err != nil {
				return s.wrap(err, "")
			}
		}
		return nil
	})
	s.index.Forget(id)
	return err
}

// projectExists returns ENOTFOUND when project id does not exist, so that
// nothing is created in a project being deleted at the same time.
func (s *Store) projectExists(w *wtx, id string) error {
	var one int
	err := w.queryRow([]any{&one}, `SELECT 1 FROM projects WHERE id = ?`, id)
	return s.wrap(err, "project "+id+" not found")
}

// KeyCreate stores a new key; ENOTFOUND when its project does not exist.
func (s *Store) KeyCreate(ctx context.Context, k *hookd.APIKey) error {
	return s.writers.do(ctx, func(w *wtx) error {
		if k.ProjectID != "" { // not an admin key
			if err := s.projectExists(w, k.ProjectID); err != nil {
				return err
			}
		}
		_, err := w.exec(`INSERT INTO api_keys (id, project_id, name, prefix, hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			k.ID, k.ProjectID, k.Name, k.Prefix, k.Hash, ns(k.CreatedAt), nsPtr(k.ExpiresAt))
		return s.wrap(err, "")
	})
}

const keyColumns = `seq, id, project_id, name, prefix, hash, created_at, revoked_at, last_used_at, expires_at`

func scanKey(sc scanner) (*hookd.APIKey, int64, error) {
	var k hookd.APIKey
	var seq, created int64
	var revoked, used, expires sql.NullInt64
	if err := sc.Scan(&seq, &k.ID, &k.ProjectID, &k.Name, &k.Prefix, &k.Hash, &created, &revoked, &used, &expires); err != nil {
		return nil, 0, err
	}
	k.CreatedAt, k.RevokedAt, k.LastUsedAt = fromNS(created), fromNull(revoked), fromNull(used)
	k.ExpiresAt = fromNull(expires)
	return &k, seq, nil
}

// KeyList returns the keys of a project ("" for admin keys), newest first.
func (s *Store) KeyList(ctx context.Context, projectID string, page hookd.Page) ([]*hookd.APIKey, string, error) {
	before, err := beforeCursor(page.Cursor)
	if err != nil {
		return nil, "", err
	}
	limit := hookd.PageLimit(page.Limit)
	rows, err := s.query(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE project_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?`,
		projectID, before, limit+1)
	if err != nil {
		return nil, "", s.wrap(err, "")
	}
	list, next, err := collect(rows, limit, scanKey)
	return list, next, s.wrap(err, "")
}

// KeyByHash returns the key with hash, or ENOTFOUND.
func (s *Store) KeyByHash(ctx context.Context, hash []byte) (*hookd.APIKey, error) {
	rows, err := s.query(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE hash = ?`, hash)
	if err != nil {
		return nil, s.wrap(err, "")
	}
	list, _, err := collect(rows, 1, scanKey)
	if err != nil {
		return nil, s.wrap(err, "")
	}
	if len(list) == 0 {
		return nil, hookd.Errorf(hookd.ENOTFOUND, "key not found")
	}
	return list[0], nil
}

// KeyRevoke marks a key revoked; revoking twice keeps the first time.
func (s *Store) KeyRevoke(ctx context.Context, projectID, id string, at time.Time) error {
	return s.writers.do(ctx, func(w *wtx) error {
		n, err := w.execN(`UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE project_id = ? AND id = ?`,
			ns(at), projectID, id)
		return rowsOrNotFound(s, n, err, "key "+id+" not found")
	})
}

// EventTypeCreate stores a new event type; ECONFLICT when the name exists,
// ENOTFOUND when its project does not.
func (s *Store) EventTypeCreate(ctx context.Context, t *hookd.EventType) error {
	return s.writers.do(ctx, func(w *wtx) error {
		if err := s.projectExists(w, t.ProjectID); err != nil {
			return err
		}
		_, err := w.exec(`INSERT INTO event_types (project_id, name, description, example, archived, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			t.ProjectID, t.Name, t.Description, nullJSON(t.Example), b2i(t.Archived), ns(t.CreatedAt), ns(t.UpdatedAt))
		if hookd.ErrorCode(s.wrap(err, "")) == hookd.ECONFLICT {
			return hookd.Errorf(hookd.ECONFLICT, "event type %s already exists", t.Name)
		}
		return s.wrap(err, "")
	})
}

const eventTypeColumns = `seq, project_id, name, description, example, archived, created_at, updated_at`

func scanEventType(sc scanner) (*hookd.EventType, string, error) {
	var t hookd.EventType
	var seq, created, updated int64
	var example sql.NullString
	var archived int
	if err := sc.Scan(&seq, &t.ProjectID, &t.Name, &t.Description, &example, &archived, &created, &updated); err != nil {
		return nil, "", err
	}
	if example.Valid {
		t.Example = json.RawMessage(example.String)
	}
	t.Archived, t.CreatedAt, t.UpdatedAt = archived != 0, fromNS(created), fromNS(updated)
	return &t, t.Name, nil
}

// EventTypeGet returns one event type, or ENOTFOUND.
func (s *Store) EventTypeGet(ctx context.Context, projectID, name string) (*hookd.EventType, error) {
	rows, err := s.query(ctx, `SELECT `+eventTypeColumns+` FROM event_types WHERE project_id = ? AND name = ?`, projectID, name)
	if err != nil {
		return nil, s.wrap(err, "")
	}
	list, _, err := collectByName(rows, 1, scanEventType)
	if err != nil {
		return nil, s.wrap(err, "")
	}
	if len(list) == 0 {
		return nil, hookd.Errorf(hookd.ENOTFOUND, "event type %s not found", name)
	}
	return list[0], nil
}

// EventTypeList returns a project's event types ordered by name.
func (s *Store) EventTypeList(ctx context.Context, projectID string, page hookd.Page) ([]*hookd.EventType, string, error) {
	after, err := nameCursor(page.Cursor)
	if err != nil {
		return nil, "", err
	}
	limit := hookd.PageLimit(page.Limit)
	rows, err := s.query(ctx, `SELECT `+eventTypeColumns+` FROM event_types WHERE project_id = ? AND name > ? ORDER BY name LIMIT ?`,
		projectID, after, limit+1)
	if err != nil {
		return nil, "", s.wrap(err, "")
	}
	list, next, err := collectByName(rows, limit, scanEventType)
	return list, next, s.wrap(err, "")
}

// EventTypeUpdate replaces an event type's description, example and archived flag.
func (s *Store) EventTypeUpdate(ctx context.Context, t *hookd.EventType) error {
	return s.writers.do(ctx, func(w *wtx) error {
		n, err := w.execN(`UPDATE event_types SET description = ?, example = ?, archived = ?, updated_at = ?
			WHERE project_id = ? AND name = ?`,
			t.Description, nullJSON(t.Example), b2i(t.Archived), ns(t.UpdatedAt), t.ProjectID, t.Name)
		return rowsOrNotFound(s, n, err, "event type "+t.Name+" not found")
	})
}

// EventTypeDelete deletes an event type.
func (s *Store) EventTypeDelete(ctx context.Context, projectID, name string) error {
	return s.writers.do(ctx, func(w *wtx) error {
		n, err := w.execN(`DELETE FROM event_types WHERE project_id = ? AND name = ?`, projectID, name)
		return rowsOrNotFound(s, n, err, "event type "+name+" not found")
	})
}
