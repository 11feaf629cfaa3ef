-- A tip's idempotency key is unique per stream, not across all of them: a provider's key
-- reused on another stream is another tip there, not a retry of this one. SQLite drops no
-- UNIQUE in place, so the table is rebuilt with its columns as 0003 made them (nothing
-- refers to tips, so foreign keys stay on).
CREATE TABLE tips_rebuilt (
    id              INTEGER PRIMARY KEY,
    stream_id       TEXT    NOT NULL REFERENCES streams (id) ON DELETE CASCADE,
    idempotency_key TEXT    NOT NULL,
    amount_minor    INTEGER NOT NULL CHECK (amount_minor > 0),
    currency        TEXT    NOT NULL,
    sender          TEXT    NOT NULL,
    message         TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    UNIQUE (stream_id, idempotency_key)
);
INSERT INTO tips_rebuilt (id, stream_id, idempotency_key, amount_minor, currency, sender,
    message, created_at)
SELECT id, stream_id, idempotency_key, amount_minor, currency, sender, message, created_at
FROM tips;
DROP TABLE tips;
ALTER TABLE tips_rebuilt RENAME TO tips;
CREATE INDEX tips_stream ON tips (stream_id, created_at);
