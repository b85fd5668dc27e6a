package sqlstore

import (
	"context"
	"encoding/json"

	"github.com/hookd/hookd"
)

const secretColumns = `seq, project_id, name, keys, sealed, created_at, updated_at`

// SecretPut creates the secret or replaces its values.
func (s *Store) SecretPut(ctx context.Context, sec *hookd.Secret) (bool, error) {
	values, err := json.Marshal(sec.Values)
	if err != nil {
		return false, s.wrap(err, "")
	}
	sealed, err := s.sealer.Seal(string(values), secretAD(sec.ProjectID, sec.Name))
	if err != nil {
		return false, s.wrap(err, "")
	}
	keys, _ := json.Marshal(sec.Keys)
	created := false
	err = s.writers.do(ctx, func(w *wtx) error {
		created = false
		if err := s.projectExists(w, sec.ProjectID); err != nil {
			return err
		}
		n, err := w.execN(`UPDATE secrets SET keys = ?, sealed = ?, updated_at = ? WHERE project_id = ? AND name = ?`,
			string(keys), sealed, ns(sec.UpdatedAt), sec.ProjectID, sec.Name)
		if err != nil || n > 0 {
			return s.wrap(err, "")
		}
		created = true
		_, err = w.exec(`INSERT INTO secrets (project_id, name, keys, sealed, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
			sec.ProjectID, sec.Name, string(keys), sealed, ns(sec.CreatedAt), ns(sec.UpdatedAt))
		return s.wrap(err, "")
	})
	return created, err
}

// secretAD binds a sealed secret to its project and name, so that sealed
// values cannot be moved to another secret in the database.
func secretAD(project, name string) string { return "secret:" + project + ":" + name }

// scanSecret reads one row; values are opened only when open is true.
func (s *Store) scanSecret(sc scanner, open bool) (*hookd.Secret, string, error) {
	var sec hookd.Secret
	var seq, created, updated int64
	var keys, sealed string
	if err := sc.Scan(&seq, &sec.ProjectID, &sec.Name, &keys, &sealed, &created, &updated); err != nil {
		return nil, "", err
	}
	if err := json.Unmarshal([]byte(keys), &sec.Keys); err != nil {
		return nil, "", err
	}
	sec.CreatedAt, sec.UpdatedAt = fromNS(created), fromNS(updated)
	if open {
		plain, err := s.sealer.Open(sealed, secretAD(sec.ProjectID, sec.Name))
		if err != nil {
			return nil, "", err
		}
		if err := json.Unmarshal([]byte(plain), &sec.Values); err != nil {
			return nil, "", err
		}
	}
	return &sec, sec.Name, nil
}

// SecretGet returns one secret with its values.
func (s *Store) SecretGet(ctx context.Context, projectID, name string) (*hookd.Secret, error) {
	rows, err := s.query(ctx, `SELECT `+secretColumns+` FROM secrets WHERE project_id = ? AND name = ?`, projectID, name)
	if err != nil {
		return nil, s.wrap(err, "")
	}
	list, _, err := collectByName(rows, 1, func(sc scanner) (*hookd.Secret, string, error) { return s.scanSecret(sc, true) })
	if err != nil {
		return nil, s.wrap(err, "")
	}
	if len(list) == 0 {
		return nil, hookd.Errorf(hookd.ENOTFOUND, "secret %s not found", name)
	}
	return list[0], nil
}

// SecretList returns a project's secrets ordered by name, without values.
func (s *Store) SecretList(ctx context.Context, projectID string, page hookd.Page) ([]*hookd.Secret, string, error) {
	after, err := nameCursor(page.Cursor)
	if err != nil {
		return nil, "", err
	}
	limit := hookd.PageLimit(page.Limit)
	rows, err := s.query(ctx, `SELECT `+secretColumns+` FROM secrets WHERE project_id = ? AND name > ? ORDER BY name LIMIT ?`,
		projectID, after, limit+1)
	if err != nil {
		return nil, "", s.wrap(err, "")
	}
	list, next, err := collectByName(rows, limit, func(sc scanner) (*hookd.Secret, string, error) { return s.scanSecret(sc, false) })
	return list, next, s.wrap(err, "")
}

// SecretDelete deletes a secret.
func (s *Store) SecretDelete(ctx context.Context, projectID, name string) error {
	return s.writers.do(ctx, func(w *wtx) error {
		n, err := w.execN(`DELETE FROM secrets WHERE project_id = ? AND name = ?`, projectID, name)
		return rowsOrNotFound(s, n, err, "secret "+name+" not found")
	})
}
