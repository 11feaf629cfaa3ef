// Player reports to POST /api/streams/{id}/metrics: join time once, latency now and then.
import { api } from "./api";
import { env } from "./env";

export interface PlayerReport {
  ttffMs?: number;
  latencyMs?: number;
  rendition?: string;
}

export function reportMetrics(streamId: string, report: PlayerReport): void {
  if (!env.metrics) return;
  const clean: PlayerReport = {};
  if (report.ttffMs !== undefined) clean.ttffMs = Math.max(0, Math.min(120_000, Math.round(report.ttffMs)));
  if (report.latencyMs !== undefined) clean.latencyMs = Math.max(0, Math.min(3_600_000, Math.round(report.latencyMs)));
  if (report.rendition) clean.rendition = report.rendition.slice(0, 32);
  api(`/api/streams/${encodeURIComponent(streamId)}/metrics`, { method: "POST", body: clean, refresh: false }).catch(
    () => undefined, // a lost report is not worth the viewer's attention
  );
}
