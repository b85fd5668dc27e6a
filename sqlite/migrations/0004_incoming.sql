-- Incoming hooks: unique URLs /in/{token} that turn a request into an event.
-- The token is sealed (to show the URL again) and looked up by its SHA-256.
CREATE TABLE incoming_hooks (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    project_id  TEXT NOT NULL,
    token_hash  BLOB NOT NULL UNIQUE,
    token       TEXT NOT NULL,             -- sealed
    secret      TEXT NOT NULL DEFAULT '',  -- sealed verification secret
    doc         TEXT NOT NULL,             -- JSON of every other setting
    accepted    INTEGER NOT NULL DEFAULT 0,
    rejected    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX incoming_hooks_project ON incoming_hooks (project_id, seq);

-- The last requests of each hook (accepted or refused, and why).
CREATE TABLE incoming_requests (
    seq         INTEGER PRIMARY KEY,
    hook_id     TEXT NOT NULL,
    project_id  TEXT NOT NULL,
    doc         TEXT NOT NULL,             -- JSON of the entry
    created_at  INTEGER NOT NULL
);
CREATE INDEX incoming_requests_hook ON incoming_requests (hook_id, seq);

-- Senders' delivery ids seen by each hook, for deduplication within a window.
CREATE TABLE incoming_dedupe (
    seq          INTEGER PRIMARY KEY,
    hook_id      TEXT NOT NULL,
    project_id   TEXT NOT NULL,
    delivery_id  TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    seen_at      INTEGER NOT NULL,
    UNIQUE (hook_id, delivery_id)
);
CREATE INDEX incoming_dedupe_seen ON incoming_dedupe (hook_id, seen_at);
