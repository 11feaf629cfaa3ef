-- mediad: foreign keys off
-- A live stream whose publisher left is 'reconnecting' until a publisher comes back or the
-- reconnect grace passes. SQLite changes no CHECK constraint in place, so the table is
-- rebuilt (its columns as 0001-0004 left them), foreign keys off so that dropping the old
-- table deletes none of the keys, chat, tips or events that refer to it.
CREATE TABLE streams_rebuilt (
    id                TEXT    PRIMARY KEY,
    owner_id          INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title             TEXT    NOT NULL,
    state             TEXT    NOT NULL DEFAULT 'preview'
                      CHECK (state IN ('preview', 'live', 'reconnecting', 'ended')),
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    dvr_window_sec    INTEGER NOT NULL DEFAULT 120,
    age_restricted    INTEGER NOT NULL DEFAULT 0,
    watermark         INTEGER NOT NULL DEFAULT 0,
    srt_passphrase    TEXT    NOT NULL DEFAULT '',
    slow_mode_sec     INTEGER NOT NULL DEFAULT 0,
    guests_may_chat   INTEGER NOT NULL DEFAULT 1,
    blocked_words     TEXT    NOT NULL DEFAULT '[]',
    pinned_message_id TEXT,
    poster_url        TEXT    NOT NULL DEFAULT '',
    start_at          INTEGER,
    ended_at          INTEGER
);
INSERT INTO streams_rebuilt (id, owner_id, title, state, created_at, updated_at,
    dvr_window_sec, age_restricted, watermark, srt_passphrase, slow_mode_sec,
    guests_may_chat, blocked_words, pinned_message_id, poster_url, start_at, ended_at)
SELECT id, owner_id, title, state, created_at, updated_at, dvr_window_sec, age_restricted,
    watermark, srt_passphrase, slow_mode_sec, guests_may_chat, blocked_words,
    pinned_message_id, poster_url, start_at, ended_at FROM streams;
DROP TABLE streams;
ALTER TABLE streams_rebuilt RENAME TO streams;
CREATE INDEX streams_owner ON streams (owner_id);
CREATE INDEX streams_state ON streams (state, updated_at);
