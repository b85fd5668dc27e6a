-- Dashboard sessions, shared by every node. The cookie's token is stored
-- only as a hash; the key the session acts with is sealed (encrypted).
CREATE TABLE sessions (
    seq         INTEGER PRIMARY KEY,
    hash        BLOB NOT NULL UNIQUE,
    key_id      TEXT NOT NULL,
    project_id  TEXT NOT NULL,               -- '' for admin keys
    sealed_key  TEXT NOT NULL,
    csrf        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE INDEX sessions_key ON sessions (key_id);
-- Expiring keys (portal links) are pruned once they expire.
CREATE INDEX api_keys_expires ON api_keys (expires_at) WHERE expires_at IS NOT NULL;
