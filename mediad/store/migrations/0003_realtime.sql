-- Chat, moderation, tips, health and the per-stream event log behind the real-time channels.

-- Chat settings of a stream (the control room changes them).
ALTER TABLE streams ADD COLUMN slow_mode_sec     INTEGER NOT NULL DEFAULT 0;
ALTER TABLE streams ADD COLUMN guests_may_chat   INTEGER NOT NULL DEFAULT 1;
ALTER TABLE streams ADD COLUMN blocked_words     TEXT    NOT NULL DEFAULT '[]';  -- JSON array
ALTER TABLE streams ADD COLUMN pinned_message_id TEXT;

-- Moderators are per stream: a user moderates the streams listed here and no others.
CREATE TABLE stream_moderators (
    stream_id TEXT    NOT NULL REFERENCES streams (id) ON DELETE CASCADE,
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    added_at  INTEGER NOT NULL,
    PRIMARY KEY (stream_id, user_id)
);

-- `author_id` is 'u:<user id>' for accounts and 'g:<guest id>' for guests.
CREATE TABLE chat_messages (
    id            TEXT    PRIMARY KEY,
    stream_id     TEXT    NOT NULL REFERENCES streams (id) ON DELETE CASCADE,
    author_id     TEXT    NOT NULL,
    author_handle TEXT    NOT NULL,
    author_role   TEXT    NOT NULL,
    text          TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    deleted_at    INTEGER,
    deleted_by    TEXT
);
CREATE INDEX chat_messages_stream ON chat_messages (stream_id, created_at);
CREATE INDEX chat_messages_author ON chat_messages (stream_id, author_id, created_at);

-- Bans and timeouts, one row per (stream, chatter).
CREATE TABLE chat_sanctions (
    stream_id   TEXT    NOT NULL REFERENCES streams (id) ON DELETE CASCADE,
    subject     TEXT    NOT NULL,
    handle      TEXT    NOT NULL,
    banned      INTEGER NOT NULL DEFAULT 0,
    muted_until INTEGER NOT NULL DEFAULT 0,  -- ms since the epoch; a timeout
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (stream_id, subject)
);

-- Every moderation action with who did it.
CREATE TABLE moderation_actions (
    id           INTEGER PRIMARY KEY,
    stream_id    TEXT    NOT NULL REFERENCES streams (id) ON DELETE CASCADE,
    action       TEXT    NOT NULL,
    actor_id     TEXT    NOT NULL,
    actor_handle TEXT    NOT NULL,
    target       TEXT,
    details      TEXT    NOT NULL DEFAULT '{}',  -- JSON
    created_at   INTEGER NOT NULL
);
CREATE INDEX moderation_actions_stream ON moderation_actions (stream_id, created_at);

-- The tip ledger; a provider's retry carries the same idempotency key and is not counted again.
CREATE TABLE tips (
    id              INTEGER PRIMARY KEY,
    stream_id       TEXT    NOT NULL REFERENCES streams (id) ON DELETE CASCADE,
    idempotency_key TEXT    NOT NULL UNIQUE,
    amount_minor    INTEGER NOT NULL CHECK (amount_minor > 0),
    currency        TEXT    NOT NULL,
    sender          TEXT    NOT NULL,
    message         TEXT    NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE INDEX tips_stream ON tips (stream_id, created_at);

-- Durable events of a stream in order: `seq` counts 1, 2, 3... per stream (the clients' cursor).
CREATE TABLE stream_events (
    stream_id  TEXT    NOT NULL,
    seq        INTEGER NOT NULL,
    body       TEXT    NOT NULL,  -- the message as sent to clients, JSON
    created_at INTEGER NOT NULL,
    PRIMARY KEY (stream_id, seq)
) WITHOUT ROWID;

-- Health samples every 5 s of a live stream (the control room's chart, analytics).
CREATE TABLE health_samples (
    stream_id    TEXT    NOT NULL,
    at           INTEGER NOT NULL,
    bitrate_kbps REAL    NOT NULL,
    fps          REAL    NOT NULL,
    drop_rate    REAL    NOT NULL,
    viewers      INTEGER NOT NULL,
    PRIMARY KEY (stream_id, at)
) WITHOUT ROWID;
