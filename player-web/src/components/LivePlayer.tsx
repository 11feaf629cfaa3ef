import { useCallback, useEffect, useRef, useState } from "react";
import type HlsType from "hls.js";
import type { Level } from "hls.js";
import { env } from "../lib/env";
import { formatClock } from "../lib/format";
import { reportMetrics } from "../lib/metrics";
import { RecoveryPolicy } from "../lib/recovery";

type Status = "loading" | "playing" | "ended" | "error";

export interface LivePlayerProps {
  src: string;
  streamId: string;
  /** Report join time and latency to the metrics endpoint. */
  report?: boolean;
  /** Called once with the time to first frame (ms). */
  onFirstFrame?: (ttffMs: number) => void;
}

interface Rendition {
  index: number;
  label: string;
}

const LATENCY_REPORT_AFTER_MS = 10_000;

function renditionLabel(level: Level): string {
  return level.height ? `${level.height}p` : `${Math.round(level.bitrate / 1000)} kbit/s`;
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

export function LivePlayer({ src, streamId, report = true, onFirstFrame }: LivePlayerProps) {
  usePreconnect(env.mediaOrigin);
  const video = useRef<HTMLVideoElement>(null);
  const hlsRef = useRef<HlsType | null>(null);
  const [status, setStatus] = useState<Status>("loading");
  const [error, setError] = useState<string | null>(null);
  const [renditions, setRenditions] = useState<Rendition[]>([]);
  const [choice, setChoice] = useState(-1); // -1: auto
  const [range, setRange] = useState<{ start: number; end: number; now: number } | null>(null);
  const [muted, setMuted] = useState(true);
  const [ttffMs, setTtffMs] = useState<number | null>(null);
  const [firstFrameAt, setFirstFrameAt] = useState<number | null>(null);
  const [latencyS, setLatencyS] = useState<number | null>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const element = video.current;
    if (!element) return;
    const started = performance.now();
    const policy = new RecoveryPolicy();
    let cancelled = false;
    let firstFrame = false;
    let retry: ReturnType<typeof setTimeout> | null = null;
    let latencyTimer: ReturnType<typeof setInterval> | null = null;
    let hls: HlsType | null = null;
    setStatus("loading");
    setError(null);

    const currentRendition = () =>
      hls && hls.currentLevel >= 0 && hls.levels[hls.currentLevel] ? renditionLabel(hls.levels[hls.currentLevel]!) : "";

    const liveLatency = (): number | null => {
      if (hls && Number.isFinite(hls.latency) && hls.latency > 0) return hls.latency;
      const seekable = element.seekable;
      if (seekable.length) return Math.max(0, seekable.end(seekable.length - 1) - element.currentTime);
      return null;
    };

    const onFrame = () => {
      if (firstFrame || cancelled) return;
      firstFrame = true;
      const ttff = performance.now() - started;
      setTtffMs(Math.round(ttff));
      setFirstFrameAt(Math.round(performance.now())); // since navigation: what a viewer waits
      setStatus("playing");
      onFirstFrame?.(ttff);
      if (report) reportMetrics(streamId, { ttffMs: ttff, rendition: currentRendition() });
      let reported = false;
      latencyTimer = setInterval(() => {
        const latency = liveLatency();
        if (latency === null) return;
        setLatencyS(Math.round(latency * 100) / 100);
        if (!reported && report && performance.now() - started > LATENCY_REPORT_AFTER_MS) {
          reported = true;
          reportMetrics(streamId, { latencyMs: latency * 1000, rendition: currentRendition() });
        }
      }, 1000);
    };

    const watchFirstFrame = () => {
      const withCallback = element as HTMLVideoElement & {
        requestVideoFrameCallback?: (callback: () => void) => number;
      };
      if (typeof withCallback.requestVideoFrameCallback === "function") {
        withCallback.requestVideoFrameCallback(onFrame);
      } else {
        element.addEventListener("playing", onFrame, { once: true });
      }
    };

    const play = () => {
      element.muted = true; // autoplay is allowed only muted; the viewer unmutes
      element.play().catch(() => undefined);
    };

    const start = async () => {
      const { default: Hls } = await import("hls.js/light");
      if (cancelled) return;
      if (!Hls.isSupported()) {
        if (element.canPlayType("application/vnd.apple.mpegurl")) {
          element.src = src; // Safari: native HLS (LL-HLS included)
          watchFirstFrame();
          play();
          return;
        }
        setStatus("error");
        setError("This browser cannot play the stream.");
        return;
      }
      hls = new Hls({
        lowLatencyMode: true,
        liveDurationInfinity: true,
        backBufferLength: 90,
        maxLiveSyncPlaybackRate: 1.5,
        manifestLoadingMaxRetry: 2,
      });
      hlsRef.current = hls;
      hls.on(Hls.Events.MANIFEST_PARSED, (_event, data) => {
        setRenditions(
          data.levels
            .map((level, index) => ({ index, label: renditionLabel(level), height: level.height }))
            .sort((a, b) => b.height - a.height)
            .map(({ index, label }) => ({ index, label })),
        );
        play();
      });
      hls.on(Hls.Events.FRAG_LOADED, () => policy.onProgress());
      hls.on(Hls.Events.ERROR, (_event, data) => {
        if (!data.fatal || !hls) return;
        const type =
          data.type === Hls.ErrorTypes.MEDIA_ERROR ? "media" : data.type === Hls.ErrorTypes.NETWORK_ERROR ? "network" : "other";
        const action = policy.onFatal(type, performance.now());
        if (action.kind === "recoverMedia") {
          hls.recoverMediaError();
        } else if (action.kind === "retryNetwork") {
          retry = setTimeout(() => hls?.startLoad(), action.delayMs);
        } else {
          setStatus("error");
          setError(`Playback stopped: ${action.reason}.`);
          hls.destroy();
          hls = null;
          hlsRef.current = null;
        }
      });
      watchFirstFrame();
      hls.loadSource(src);
      hls.attachMedia(element);
    };

    const onEnded = () => setStatus("ended");
    const onTime = () => {
      const seekable = element.seekable;
      if (!seekable.length) return;
      setRange({ start: seekable.start(0), end: seekable.end(seekable.length - 1), now: element.currentTime });
    };
    element.addEventListener("ended", onEnded);
    element.addEventListener("timeupdate", onTime);
    void start();
    return () => {
      cancelled = true;
      element.removeEventListener("ended", onEnded);
      element.removeEventListener("timeupdate", onTime);
      element.removeEventListener("playing", onFrame);
      if (retry) clearTimeout(retry);
      if (latencyTimer) clearInterval(latencyTimer);
      hls?.destroy();
      hlsRef.current = null;
      element.removeAttribute("src");
      element.load();
    };
  }, [src, streamId, report, onFirstFrame, attempt]);

  const choose = useCallback((index: number) => {
    setChoice(index);
    if (hlsRef.current) hlsRef.current.currentLevel = index; // -1 gives control back to ABR
  }, []);

  const seek = (to: number) => {
    if (video.current) video.current.currentTime = to;
  };
  // hls.js knows where live playback should sit (the part hold-back behind the edge).
  const goLive = () => {
    const target = hlsRef.current?.liveSyncPosition ?? (range ? range.end - 1 : null);
    if (target !== null && target !== undefined) seek(target);
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
    >
      <video ref={video} playsInline muted={muted} aria-label="live video" />
      {status === "loading" && <div className="player-overlay">Loading…</div>}
      {status === "ended" && <div className="player-overlay">The stream has ended.</div>}
      {status === "error" && (
        <div className="player-overlay" role="alert">
          <p>{error}</p>
          <button type="button" onClick={() => setAttempt((n) => n + 1)}>
            Retry
          </button>
        </div>
      )}
      <div className="controls">
        <button type="button" onClick={() => setMuted((value) => !value)} aria-pressed={!muted}>
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
          status === "playing" && <span className="at-live">LIVE</span>
        )}
        {renditions.length > 1 && (
          <select aria-label="Quality" value={choice} onChange={(event) => choose(Number(event.target.value))}>
            <option value={-1}>Auto</option>
            {renditions.map((rendition) => (
              <option key={rendition.index} value={rendition.index}>
                {rendition.label}
              </option>
            ))}
          </select>
        )}
      </div>
    </div>
  );
}
