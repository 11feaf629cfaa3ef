-- A creator may make real-time (WebRTC/WHEP) playback the watch page's default mode for a
-- stream; existing streams keep LL-HLS as their default.
ALTER TABLE streams ADD COLUMN realtime_playback INTEGER NOT NULL DEFAULT 0;
