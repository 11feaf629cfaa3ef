-- Per-stream settings and the SRT passphrase; existing streams get the defaults.
ALTER TABLE streams ADD COLUMN dvr_window_sec INTEGER NOT NULL DEFAULT 120;
ALTER TABLE streams ADD COLUMN age_restricted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE streams ADD COLUMN watermark      INTEGER NOT NULL DEFAULT 0;
ALTER TABLE streams ADD COLUMN srt_passphrase TEXT    NOT NULL DEFAULT '';
