-- Accounts and the control room: sign-in sessions, stream discovery fields, the key audit
-- log and the player's join-time reports.

-- Discovery: a poster image URL and a scheduled start (ms since the epoch, UTC).
ALTER TABLE streams ADD COLUMN poster_url TEXT    NOT NULL DEFAULT '';
ALTER TABLE streams ADD COLUMN start_at   INTEGER;
ALTER TABLE streams ADD COLUMN ended_at   INTEGER;
CREATE INDEX streams_state ON streams (state, updated_at);

-- A refresh token is a random secret given to the browser once; only its SHA-256 is kept,
-- so a copy of the database signs no one in. Signing out or refreshing revokes it.
CREATE TABLE refresh_tokens (
    lookup     TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);

-- Who revealed or rotated which key, and when.
CREATE TABLE key_events (
    id         INTEGER PRIMARY KEY,
    stream_id  TEXT    NOT NULL REFERENCES streams (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL CHECK (kind IN ('primary', 'backup')),
    action     TEXT    NOT NULL CHECK (action IN ('reveal', 'rotate')),
    actor_id   INTEGER NOT NULL,
    actor      TEXT    NOT NULL,
    ip         TEXT    NOT NULL,
    at         INTEGER NOT NULL
);
CREATE INDEX key_events_stream ON key_events (stream_id, at);

-- What players report: time to first frame and distance to the live edge.
CREATE TABLE player_metrics (
    id         INTEGER PRIMARY KEY,
    stream_id  TEXT    NOT NULL REFERENCES streams (id) ON DELETE CASCADE,
    at         INTEGER NOT NULL,
    ttff_ms    INTEGER,
    latency_ms INTEGER,
    rendition  TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX player_metrics_stream ON player_metrics (stream_id, at);
