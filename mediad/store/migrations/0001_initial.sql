-- Accounts, streams and their ingest keys.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    handle        TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    display_name  TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'creator', 'viewer')),
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL  -- ms since the epoch, UTC
);

CREATE TABLE streams (
    id         TEXT    PRIMARY KEY,
    owner_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title      TEXT    NOT NULL,
    state      TEXT    NOT NULL DEFAULT 'preview' CHECK (state IN ('preview', 'live', 'ended')),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX streams_owner ON streams (owner_id);

-- One primary and one backup key per stream. `lookup` is the SHA-256 of the secret, so a
-- key is found by an index without comparing secrets byte by byte in SQL.
CREATE TABLE stream_keys (
    stream_id  TEXT    NOT NULL REFERENCES streams (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL CHECK (kind IN ('primary', 'backup')),
    secret     TEXT    NOT NULL,
    lookup     TEXT    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (stream_id, kind)
);
