-- hookd schema, SQLite dialect. Times are unix nanoseconds (INTEGER).
-- Keep in step with postgres/migrations/0001_init.sql: internal/sqlstore runs
-- the same queries on both.

CREATE TABLE projects (
    seq              INTEGER PRIMARY KEY,
    id               TEXT NOT NULL UNIQUE,
    name             TEXT NOT NULL,
    doc              TEXT NOT NULL,            -- JSON: description, metadata
    webhooks_version INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);

CREATE TABLE api_keys (
    seq          INTEGER PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    project_id   TEXT NOT NULL,               -- '' for admin keys
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    hash         BLOB NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    revoked_at   INTEGER,
    last_used_at INTEGER
);
CREATE INDEX api_keys_project ON api_keys (project_id, seq);

CREATE TABLE event_types (
    seq         INTEGER PRIMARY KEY,
    project_id  TEXT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    example     TEXT,
    archived    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (project_id, name)
);

CREATE TABLE webhooks (
    seq                        INTEGER PRIMARY KEY,
    id                         TEXT NOT NULL UNIQUE,
    project_id                 TEXT NOT NULL,
    active                     INTEGER NOT NULL,
    ordered                    INTEGER NOT NULL,
    disabled_reason            TEXT NOT NULL DEFAULT '',
    doc                        TEXT NOT NULL,  -- JSON of every other setting
    secret                     TEXT NOT NULL,  -- sealed
    previous_secret            TEXT NOT NULL DEFAULT '',
    previous_secret_expires_at INTEGER,
    failure_streak             INTEGER NOT NULL DEFAULT 0,
    failing_since              INTEGER,
    created_at                 INTEGER NOT NULL,
    updated_at                 INTEGER NOT NULL
);
CREATE INDEX webhooks_project ON webhooks (project_id, seq);

CREATE TABLE events (
    seq             INTEGER PRIMARY KEY,
    id              TEXT NOT NULL,
    project_id      TEXT NOT NULL,
    type            TEXT NOT NULL,
    data            TEXT NOT NULL,
    timestamp       INTEGER NOT NULL,
    idempotency_key TEXT,
    fingerprint     BLOB NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX events_id ON events (project_id, id);
CREATE UNIQUE INDEX events_idempotency ON events (project_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX events_project ON events (project_id, seq);
CREATE INDEX events_created ON events (created_at);

-- deliveries is both the delivery log and the queue. due_at is when the
-- delivery may next be claimed: next_attempt_at for a waiting delivery, the
-- lease expiry for a leased one, NULL for one that must not be claimed
-- (finished, its webhook disabled, or behind the head of an ordered webhook).
CREATE TABLE deliveries (
    seq             INTEGER PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    project_id      TEXT NOT NULL,
    event_seq       INTEGER NOT NULL,
    event_id        TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    webhook_id      TEXT NOT NULL,
    state           INTEGER NOT NULL,          -- 0 pending, 1 succeeded, 2 failed, 3 canceled
    attempt_count   INTEGER NOT NULL DEFAULT 0,
    trigger_name    TEXT NOT NULL,
    next_attempt_at INTEGER,
    due_at          INTEGER,
    lease_owner     TEXT NOT NULL DEFAULT '',
    lease_token     INTEGER NOT NULL DEFAULT 0,
    last_attempt_at INTEGER,
    last_status     INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    completed_at    INTEGER
);
CREATE INDEX deliveries_due ON deliveries (due_at) WHERE due_at IS NOT NULL;
CREATE INDEX deliveries_webhook ON deliveries (webhook_id, seq);
CREATE INDEX deliveries_webhook_pending ON deliveries (webhook_id, seq) WHERE state = 0;
CREATE INDEX deliveries_event ON deliveries (event_seq);

CREATE TABLE attempts (
    seq              INTEGER PRIMARY KEY,
    id               TEXT NOT NULL,
    delivery_seq     INTEGER NOT NULL,
    number           INTEGER NOT NULL,
    trigger_name     TEXT NOT NULL,
    outcome          TEXT NOT NULL,
    started_at       INTEGER NOT NULL,
    duration_ns      INTEGER NOT NULL,
    request_method   TEXT NOT NULL,
    request_url      TEXT NOT NULL,
    request_headers  TEXT NOT NULL,
    request_body     TEXT,                     -- NULL: the event's envelope
    response_status  INTEGER NOT NULL DEFAULT 0,
    response_headers TEXT,
    response_body    TEXT,
    response_meta    TEXT,                     -- JSON: body_encoding, truncated
    error            TEXT NOT NULL DEFAULT ''
);
CREATE INDEX attempts_delivery ON attempts (delivery_seq);
