package sqlstore

import (
	"context"
	"time"

	"github.com/hookd/hookd"
)

// sessionAD binds a session's sealed key text to the key's id, so that the
// text of one key cannot be moved into a session naming another key.
func sessionAD(keyID string) string { return "session:" + keyID }

// SessionCreate stores a new session with its key text sealed; ENOTFOUND
// when its key does not exist.
func (s *Store) SessionCreate(ctx context.Context, sess *hookd.Session) error {
	sealed, err := s.sealer.Seal(sess.KeyText, sessionAD(sess.KeyID))
	if err != nil {
		return s.wrap(err, "")
	}
	return s.writers.do(ctx, func(w *wtx) error {
		var project string
		if err := w.queryRow([]any{&project}, `SELECT project_id FROM api_keys WHERE id = ?`, sess.KeyID); err != nil {
			return s.wrap(err, "key "+sess.KeyID+" not found")
		}
		_, err := w.exec(`INSERT INTO sessions (hash, key_id, project_id, sealed_key, csrf, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			sess.Hash, sess.KeyID, project, sealed, sess.CSRF, ns(sess.CreatedAt), ns(sess.ExpiresAt))
		return s.wrap(err, "")
	})
}

// sessionColumns are a session's columns followed by its key's (keyColumns).
const sessionColumns = `s.key_id, s.sealed_key, s.csrf, s.created_at, s.expires_at,
	k.seq, k.id, k.project_id, k.name, k.prefix, k.hash, k.created_at, k.revoked_at, k.last_used_at, k.expires_at`

// SessionGet returns the session stored under hash with its key; ENOTFOUND
// when there is none or its key is gone.
func (s *Store) SessionGet(ctx context.Context, hash []byte) (*hookd.Session, error) {
	rows, err := s.query(ctx, `SELECT `+sessionColumns+` FROM sessions s JOIN api_keys k ON k.id = s.key_id
		WHERE s.hash = ?`, hash)
	if err != nil {
		return nil, s.wrap(err, "")
	}
	list, _, err := collect(rows, 1, func(sc scanner) (*hookd.Session, int64, error) {
		return s.scanSession(sc, hash)
	})
	if err != nil {
		return nil, s.wrap(err, "")
	}
	if len(list) == 0 {
		return nil, hookd.Errorf(hookd.ENOTFOUND, "session not found")
	}
	return list[0], nil
}

// scanSession reads one row of sessionColumns and opens the key text.
func (s *Store) scanSession(sc scanner, hash []byte) (*hookd.Session, int64, error) {
	sess := &hookd.Session{Hash: hash}
	var sealed string
	var created, expires int64
	key, seq, err := scanKey(prefixScanner{sc, []any{&sess.KeyID, &sealed, &sess.CSRF, &created, &expires}})
	if err != nil {
		return nil, 0, err
	}
	if sess.KeyText, err = s.sealer.Open(sealed, sessionAD(sess.KeyID)); err != nil {
		return nil, 0, err
	}
	sess.Key, sess.CreatedAt, sess.ExpiresAt = key, fromNS(created), fromNS(expires)
	return sess, seq, nil
}

// prefixScanner scans the first columns of a row into head and the rest
// into what Scan is given.
type prefixScanner struct {
	sc   scanner
	head []any
}

func (p prefixScanner) Scan(dest ...any) error {
	return p.sc.Scan(append(append([]any{}, p.head...), dest...)...)
}

// SessionTouch moves a session's expiry; ENOTFOUND when it does not exist.
func (s *Store) SessionTouch(ctx context.Context, hash []byte, expires time.Time) error {
	return s.writers.do(ctx, func(w *wtx) error {
		n, err := w.execN(`UPDATE sessions SET expires_at = ? WHERE hash = ?`, ns(expires), hash)
		return rowsOrNotFound(s, n, err, "session not found")
	})
}

// SessionDelete deletes a session; a missing one is not an error.
func (s *Store) SessionDelete(ctx context.Context, hash []byte) error {
	return s.writers.do(ctx, func(w *wtx) error {
		_, err := w.exec(`DELETE FROM sessions WHERE hash = ?`, hash)
		return s.wrap(err, "")
	})
}

// SessionPrune deletes up to limit sessions that expired at or before now,
// or whose key is revoked or gone.
func (s *Store) SessionPrune(ctx context.Context, now time.Time, limit int) (int, error) {
	var n int64
	err := s.writers.do(ctx, func(w *wtx) error {
		var err error
		n, err = w.execN(`DELETE FROM sessions WHERE seq IN (SELECT s.seq FROM sessions s
			LEFT JOIN api_keys k ON k.id = s.key_id
			WHERE s.expires_at <= ? OR k.id IS NULL OR k.revoked_at IS NOT NULL LIMIT ?)`, ns(now), limit)
		return s.wrap(err, "")
	})
	return int(n), err
}

// KeyPruneExpired deletes up to limit keys that expired at or before
// before, with their sessions.
func (s *Store) KeyPruneExpired(ctx context.Context, before time.Time, limit int) (int, error) {
	var n int64
	err := s.writers.do(ctx, func(w *wtx) error {
		const victims = `SELECT id FROM api_keys WHERE expires_at IS NOT NULL AND expires_at <= ? ORDER BY expires_at LIMIT ?`
		if _, err := w.exec(`DELETE FROM sessions WHERE key_id IN (`+victims+`)`, ns(before), limit); err != nil {
			return s.wrap(err, "")
		}
		var err error
		n, err = w.execN(`DELETE FROM api_keys WHERE id IN (`+victims+`)`, ns(before), limit)
		return s.wrap(err, "")
	})
	return int(n), err
}
