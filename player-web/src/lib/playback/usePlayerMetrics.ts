import { useEffect, useRef, useState } from "react";
import { reportMetrics } from "../metrics";
import type { FirstFrame } from "./usePlayback";

/** The latency is reported once, after this long: by then playback has settled. */
export const LATENCY_REPORT_AFTER_MS = 10_000;
const LATENCY_SAMPLE_MS = 1000;

/** What the metrics read of the playback now under way. */
export interface PlaybackProbe {
  latency: () => number | null;
  currentRendition: () => string;
}

export interface MetricsOptions {
  streamId: string;
  /** Post the join time and the latency to the stream's metrics endpoint. */
  report: boolean;
  /** Called once per playback attempt with its time to first frame (ms). */
  onFirstFrame?: (ttffMs: number) => void;
}

export interface PlayerMetrics {
  /** Time to first frame of the latest attempt (ms). */
  ttffMs: number | null;
  /** When that frame was shown, in ms since navigation: what a viewer waited in all. */
  firstFrameAt: number | null;
  /** Seconds behind the live edge, sampled every second while playing. */
  latencyS: number | null;
}

/** Join time once the first frame is shown, then the latency every second; each posted once
 * per attempt when `report` is set. The figures stay until the next attempt replaces them. */
export function usePlayerMetrics(firstFrame: FirstFrame | null, probe: PlaybackProbe, options: MetricsOptions): PlayerMetrics {
  const [ttffMs, setTtffMs] = useState<number | null>(null);
  const [firstFrameAt, setFirstFrameAt] = useState<number | null>(null);
  const [latencyS, setLatencyS] = useState<number | null>(null);
  // Read when used: a new callback or probe from the parent neither re-reports nor restarts.
  const latest = useRef({ probe, ...options });
  useEffect(() => {
    latest.current = { probe, ...options };
  });

  useEffect(() => {
    if (!firstFrame) return;
    const { probe: first, streamId, report, onFirstFrame } = latest.current;
    const ttff = firstFrame.at - firstFrame.startedAt;
    setTtffMs(Math.round(ttff));
    setFirstFrameAt(Math.round(firstFrame.at));
    onFirstFrame?.(ttff);
    if (report) reportMetrics(streamId, { ttffMs: ttff, rendition: first.currentRendition() });
    let reported = false;
    const timer = setInterval(() => {
      const { probe: now, streamId: id, report: reporting } = latest.current;
      const latency = now.latency();
      if (latency === null) return;
      setLatencyS(Math.round(latency * 100) / 100);
      if (!reported && reporting && performance.now() - firstFrame.startedAt > LATENCY_REPORT_AFTER_MS) {
        reported = true;
        reportMetrics(id, { latencyMs: latency * 1000, rendition: now.currentRendition() });
      }
    }, LATENCY_SAMPLE_MS);
    return () => clearInterval(timer);
  }, [firstFrame]);

  return { ttffMs, firstFrameAt, latencyS };
}
