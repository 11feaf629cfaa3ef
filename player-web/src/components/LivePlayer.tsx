import { useEffect, useMemo, useRef } from "react";
import { env } from "../lib/env";
import { formatClock } from "../lib/format";
import { initialMode } from "../lib/playback/playbackMode";
import { useDvrRange } from "../lib/playback/useDvrRange";
import { useMutedAutoplay } from "../lib/playback/useMutedAutoplay";
import { usePlayback } from "../lib/playback/usePlayback";
import { usePlayerMetrics } from "../lib/playback/usePlayerMetrics";
import type { StreamState } from "../lib/types";
import { EngineBadge, LatencyReadout, PlaybackModeSwitch } from "./PlaybackModeSwitch";
import { PlayerError } from "./PlayerError";
import { QualityMenu } from "./QualityMenu";

export interface LivePlayerProps {
  /** The LL-HLS multivariant playlist. */
  src: string;
  /** The WHEP endpoint, where the server offers real-time playback. */
  whepSrc?: string;
  /** Start in Real-time where it can play (the stream's realtimePlayback setting). */
  realtimeDefault?: boolean;
  streamId: string;
  /** Report join time, latency and playback quality to the metrics endpoint (and send CMCD). */
  report?: boolean;
  /** Called once with the time to first frame (ms). */
  onFirstFrame?: (ttffMs: number) => void;
  /** The stream's lifecycle state, as the status channel tells it: while "reconnecting"
   * the last picture stays under a notice, and playback resumes when it is live again. */
  streamState?: StreamState;
  /** Shown by the audio view of a stream without a picture. */
  title?: string;
  posterUrl?: string;
  /** The picture shown before playback starts (the creator's poster, else the live thumbnail). */
  previewUrl?: string;
}

/** Back to live after a reconnect: load now, not at the engine's next retry. */
function useResumeAfterReconnect(streamState: StreamState | undefined, resume: () => void): void {
  const previous = useRef(streamState);
  const latestResume = useRef(resume);
  useEffect(() => {
    latestResume.current = resume;
  });
  useEffect(() => {
    if (previous.current === "reconnecting" && streamState === "live") latestResume.current();
    previous.current = streamState;
  }, [streamState]);
}

/** Preconnect to where the media comes from, before the first playlist request. */
function usePreconnect(origin: string): void {
  useEffect(() => {
    const href = origin || window.location.origin;
    const link = document.createElement("link");
    link.rel = "preconnect";
    link.href = href;
    link.crossOrigin = "use-credentials";
    document.head.appendChild(link);
    return () => link.remove();
  }, [origin]);
}

export function LivePlayer({
  src,
  whepSrc,
  realtimeDefault = false,
  streamId,
  report = true,
  onFirstFrame,
  streamState,
  title = "",
  posterUrl = "",
  previewUrl,
}: LivePlayerProps) {
  usePreconnect(env.mediaOrigin);
  const video = useRef<HTMLVideoElement>(null);
  const source = useMemo(() => {
    const contentId = report ? streamId : undefined; // CMCD only from a player that reports
    return whepSrc ? { hlsUrl: src, whepUrl: whepSrc, contentId } : { hlsUrl: src, contentId };
  }, [src, whepSrc, streamId, report]);
  const { muted, toggleMuted, play } = useMutedAutoplay(video);
  const playback = usePlayback(video, source, play, initialMode(source, realtimeDefault));
  const { ttffMs, firstFrameAt, latencyS } = usePlayerMetrics(playback.firstFrame, playback, { streamId, report, onFirstFrame, video });
  const { range, seek } = useDvrRange(video);
  const { status, mode } = playback;
  const reconnecting = streamState === "reconnecting";
  useResumeAfterReconnect(streamState, playback.resume);

  // The engine knows where live playback should sit (hls.js: the part hold-back behind the edge).
  const goLive = () => {
    const target = playback.liveSyncPosition() ?? (range ? range.end - 1 : null);
    if (target !== null) seek(target);
  };

  const behind = range ? range.end - range.now : 0;
  return (
    <div
      className={`live-player status-${status}`}
      data-testid="live-player"
      data-status={status}
      data-ttff-ms={ttffMs ?? undefined}
      data-first-frame-at={firstFrameAt ?? undefined}
      data-latency-s={latencyS ?? undefined}
      data-stream-state={streamState}
      data-audio-only={playback.audioOnly || undefined}
      data-playback-mode={mode}
      data-engine={playback.engine ?? undefined}
    >
      <video ref={video} playsInline aria-label="live video" poster={previewUrl || undefined} />
      {playback.audioOnly && (
        <div className="audio-view" data-testid="audio-view">
          {posterUrl ? <img src={posterUrl} alt="" /> : <div className="poster-blank" />}
          <div className="audio-caption">
            <span className="audio-label">Audio only</span>
            {title && <strong>{title}</strong>}
          </div>
        </div>
      )}
      {reconnecting ? (
        <div className="player-overlay reconnecting" role="status" data-testid="reconnecting">
          <p>
            <strong>Reconnecting…</strong>
            <br />
            The broadcast will continue as soon as the streamer&apos;s encoder is back.
          </p>
        </div>
      ) : (
        <>
          {status === "loading" && <div className="player-overlay">Loading…</div>}
          {status === "ended" && <div className="player-overlay">The stream has ended.</div>}
        </>
      )}
      {status === "error" && !reconnecting && <PlayerError message={playback.error} onRetry={playback.retry} />}
      {playback.fallback && (
        <p className="player-notice" role="status" data-testid="playback-fallback">
          {playback.fallback}
        </p>
      )}
      <div className="controls">
        <button type="button" onClick={toggleMuted} aria-pressed={!muted}>
          {muted ? "Unmute" : "Mute"}
        </button>
        {range && range.end - range.start > 1 && (
          <input
            className="dvr"
            type="range"
            aria-label="Position in the stream"
            min={range.start}
            max={range.end}
            step={0.1}
            value={range.now}
            onChange={(event) => seek(Number(event.target.value))}
          />
        )}
        {behind > env.liveEdgeThresholdSec ? (
          <button type="button" className="go-live" onClick={goLive}>
            Go live (−{formatClock(behind)})
          </button>
        ) : (
          status === "playing" && !reconnecting && <span className="at-live">LIVE</span>
        )}
        <EngineBadge mode={mode} />
        {status === "playing" && latencyS !== null && <LatencyReadout mode={mode} seconds={latencyS} />}
        {playback.realtimeAvailable && <PlaybackModeSwitch mode={mode} onChoose={playback.chooseMode} />}
        <QualityMenu renditions={playback.renditions} chosen={playback.rendition} onChoose={playback.chooseRendition} />
      </div>
    </div>
  );
}
