-- Named secrets of a project: key/value pairs referenced from webhooks'
-- URLs, headers and templates. The values are one sealed JSON object.
CREATE TABLE secrets (
    seq         INTEGER PRIMARY KEY,
    project_id  TEXT NOT NULL,
    name        TEXT NOT NULL,
    keys        TEXT NOT NULL,
    sealed      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (project_id, name)
);
