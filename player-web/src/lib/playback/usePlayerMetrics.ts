import { useEffect, useRef, useState, type RefObject } from "react";
import { reportMetrics, type PlayerReport } from "../metrics";
import { playerSessionId } from "./cmcd";
import { PlaybackQuality, bufferAhead } from "./playbackQuality";
import type { FirstFrame } from "./usePlayback";

/** The latency is reported once, after this long: by then playback has settled. */
export const LATENCY_REPORT_AFTER_MS = 10_000;
/** The playback quality (buffer, throughput, stalls, time playing) is reported this often;
 * with the join time and the latency, three reports in the first minute, two a minute after
 * (the server's default allows 30 a minute per address). */
export const QUALITY_REPORT_MS = 30_000;
const LATENCY_SAMPLE_MS = 1000;

/** What the metrics read of the playback now under way. */
export interface PlaybackProbe {
  latency: () => number | null;
  currentRendition: () => string;
  /** Measured throughput (bits per second), where the engine measures it. */
  throughput?: () => number | null;
}

export interface MetricsOptions {
  streamId: string;
  /** Post the join time, the latency and the playback quality to the stream's metrics endpoint. */
  report: boolean;
  /** Called once per playback attempt with its time to first frame (ms). */
  onFirstFrame?: (ttffMs: number) => void;
  /** The element playing: its stalls, time playing and buffer are the quality reported. */
  video?: RefObject<HTMLVideoElement | null>;
}

export interface PlayerMetrics {
  /** Time to first frame of the latest attempt (ms). */
  ttffMs: number | null;
  /** When that frame was shown, in ms since navigation: what a viewer waited in all. */
  firstFrameAt: number | null;
  /** Seconds behind the live edge, sampled every second while playing. */
  latencyS: number | null;
}

/** The quality part of a report: the slice of stalls and time playing since the last one. */
function qualityReport(quality: PlaybackQuality | null, element: HTMLVideoElement | null, probe: PlaybackProbe): PlayerReport {
  const report: PlayerReport = { sessionId: playerSessionId, rendition: probe.currentRendition() };
  if (quality) Object.assign(report, quality.take());
  const buffer = element ? bufferAhead(element) : null;
  if (buffer !== null) report.bufferMs = buffer * 1000;
  const throughput = probe.throughput?.() ?? null;
  if (throughput !== null) report.throughputKbps = throughput / 1000;
  return report;
}

/** Whether a quality report has anything to say (the server refuses an empty one). */
function hasFigures(report: PlayerReport): boolean {
  return report.stalls !== undefined || report.bufferMs !== undefined || report.throughputKbps !== undefined;
}

/** Join time once the first frame is shown, then the latency every second; the join time
 * and the latency posted once per attempt when `report` is set, the playback quality every
 * QUALITY_REPORT_MS and when the attempt ends. The figures stay until the next attempt. */
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
    const { probe: first, streamId, report, onFirstFrame, video } = latest.current;
    const element = video?.current ?? null;
    const quality = element ? new PlaybackQuality(element) : null;
    const ttff = firstFrame.at - firstFrame.startedAt;
    setTtffMs(Math.round(ttff));
    setFirstFrameAt(Math.round(firstFrame.at));
    onFirstFrame?.(ttff);
    // The first report says the session reports its own stalls (0 so far): the server
    // counts them from the reports, not again from the CMCD of its requests.
    if (report) reportMetrics(streamId, { ttffMs: ttff, ...qualityReport(quality, element, first) });
    let reported = false;
    let qualityAt = performance.now();
    const timer = setInterval(() => {
      const { probe: now, streamId: id, report: reporting } = latest.current;
      if (reporting && performance.now() - qualityAt >= QUALITY_REPORT_MS) {
        qualityAt = performance.now();
        const figures = qualityReport(quality, element, now);
        if (hasFigures(figures)) reportMetrics(id, figures);
      }
      const latency = now.latency();
      if (latency === null) return;
      setLatencyS(Math.round(latency * 100) / 100);
      if (!reported && reporting && performance.now() - firstFrame.startedAt > LATENCY_REPORT_AFTER_MS) {
        reported = true;
        reportMetrics(id, { sessionId: playerSessionId, latencyMs: latency * 1000, rendition: now.currentRendition() });
      }
    }, LATENCY_SAMPLE_MS);
    return () => {
      clearInterval(timer);
      const { probe: last, streamId: id, report: reporting } = latest.current;
      if (quality && reporting) {
        const final = qualityReport(quality, element, last);
        if ((final.watchedMs ?? 0) >= 1000 || (final.stalls ?? 0) > 0) reportMetrics(id, final);
      }
      quality?.stop();
    };
  }, [firstFrame]);

  return { ttffMs, firstFrameAt, latencyS };
}
