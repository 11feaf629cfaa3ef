import { useMemo, useRef } from "react";
import { formatClock } from "../lib/format";
import { useMediaClock } from "../lib/playback/useMediaClock";
import { useMutedAutoplay } from "../lib/playback/useMutedAutoplay";
import { usePlayback } from "../lib/playback/usePlayback";
import { PlayerError } from "./PlayerError";
import { QualityMenu } from "./QualityMenu";

export interface ReplayPlayerProps {
  /** The recording's multivariant playlist (VOD, or EVENT while still recording). */
  src: string;
  /** Shown until the first frame. */
  posterUrl?: string;
  /** The length the server gave, until the media says. */
  durationSec?: number;
  /** Still being recorded: its end moves on as the broadcast goes on. */
  growing?: boolean;
}

/** A replay or a clip on the engines the live player uses (hls.js, else the browser's own
 * HLS), from its start, with a seek bar over the whole recording. */
export function ReplayPlayer({ src, posterUrl, durationSec = 0, growing = false }: ReplayPlayerProps) {
  const video = useRef<HTMLVideoElement>(null);
  const source = useMemo(() => ({ hlsUrl: src, vod: true }), [src]);
  const { muted, toggleMuted, play } = useMutedAutoplay(video);
  const playback = usePlayback(video, source, play);
  const clock = useMediaClock(video, durationSec);
  // "ended" is the element's, not the attempt's: seeking back after the end plays again.
  const status = playback.status === "ended" ? "playing" : playback.status;
  return (
    <div
      className={`live-player replay-player status-${status}`}
      data-testid="replay-player"
      data-status={status}
      data-duration={clock.duration || undefined}
    >
      <video ref={video} playsInline aria-label="replay video" poster={posterUrl || undefined} onClick={clock.togglePaused} />
      {status === "loading" && <div className="player-overlay">Loading…</div>}
      {status === "error" && <PlayerError message={playback.error} onRetry={playback.retry} />}
      <div className="controls">
        <button type="button" onClick={clock.togglePaused}>
          {clock.paused || clock.ended ? "Play" : "Pause"}
        </button>
        <button type="button" onClick={toggleMuted} aria-pressed={!muted}>
          {muted ? "Unmute" : "Mute"}
        </button>
        <input
          className="dvr"
          type="range"
          aria-label="Position in the recording"
          min={0}
          max={clock.duration || 0}
          step={0.1}
          value={Math.min(clock.currentTime, clock.duration || 0)}
          disabled={!clock.duration}
          onChange={(event) => clock.seek(Number(event.target.value))}
        />
        <span className="clock" aria-label="Time">
          {formatClock(clock.currentTime)} / {formatClock(clock.duration)}
        </span>
        {growing && <span className="recording-now">Recording</span>}
        <QualityMenu renditions={playback.renditions} chosen={playback.rendition} onChoose={playback.chooseRendition} />
      </div>
    </div>
  );
}
