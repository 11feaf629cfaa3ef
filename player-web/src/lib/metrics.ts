// Player reports to POST /api/streams/{id}/metrics: the join time once, the latency once it
// settled, and the playback quality now and then (buffer, throughput, stalls and time playing
// since the previous report), each under the page's player session id (its CMCD sid too).
// Behind a caching edge these are what the server knows of its viewers' playback: the edge
// answers most media requests itself, so the CMCD of those never reaches the origin.
import { api } from "./api";
import { env } from "./env";

export interface PlayerReport {
  ttffMs?: number;
  latencyMs?: number;
  rendition?: string;
  sessionId?: string;
  bufferMs?: number;
  throughputKbps?: number;
  stalls?: number;
  watchedMs?: number;
}

/** The server's bounds of each figure (mediad/api/analytics.py). */
const BOUNDS: Record<"ttffMs" | "latencyMs" | "bufferMs" | "throughputKbps" | "stalls" | "watchedMs", number> = {
  ttffMs: 120_000,
  latencyMs: 3_600_000,
  bufferMs: 600_000,
  throughputKbps: 100_000_000,
  stalls: 10_000,
  watchedMs: 3_600_000,
};

export function cleanReport(report: PlayerReport): PlayerReport {
  const clean: PlayerReport = {};
  for (const key of Object.keys(BOUNDS) as (keyof typeof BOUNDS)[]) {
    const value = report[key];
    if (value !== undefined && Number.isFinite(value)) clean[key] = Math.max(0, Math.min(BOUNDS[key], Math.round(value)));
  }
  if (report.rendition) clean.rendition = report.rendition.slice(0, 32);
  if (report.sessionId) clean.sessionId = report.sessionId.slice(0, 64);
  return clean;
}

export function reportMetrics(streamId: string, report: PlayerReport): void {
  if (!env.metrics) return;
  api(`/api/streams/${encodeURIComponent(streamId)}/metrics`, { method: "POST", body: cleanReport(report), refresh: false }).catch(
    () => undefined, // a lost report is not worth the viewer's attention
  );
}
