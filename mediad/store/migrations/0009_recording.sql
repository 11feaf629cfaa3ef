-- Broadcasts kept (issue 18). ``record``: NULL until the creator chooses, so that the
-- server's ``recording.enabled`` decides for streams that never set it (existing ones
-- included). ``record_keep_days``: NULL for the server's ``recording.keep_days``, 0 for
-- kept until deleted. Replays are public unless the creator makes them private.
ALTER TABLE streams ADD COLUMN record           INTEGER;
ALTER TABLE streams ADD COLUMN record_keep_days INTEGER;
ALTER TABLE streams ADD COLUMN replays_public   INTEGER NOT NULL DEFAULT 1;
