import { useEffect, useState } from "react";
import { api } from "../lib/api";
import type { Health } from "../lib/channel";
import type { PlayerQuality } from "../lib/messages";
import type { HealthSample } from "../lib/types";

const WINDOW_MS = 10 * 60_000;

function Chart({ samples, pick, label }: { samples: HealthSample[]; pick: (s: HealthSample) => number; label: string }) {
  if (samples.length < 2) return <div className="chart empty">{label}: collecting…</div>;
  const width = 300;
  const height = 60;
  const first = samples[0]!.at;
  const last = samples[samples.length - 1]!.at;
  const top = Math.max(1, ...samples.map(pick));
  const points = samples
    .map((s) => `${(((s.at - first) / Math.max(1, last - first)) * width).toFixed(1)},${(height - (pick(s) / top) * height).toFixed(1)}`)
    .join(" ");
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${label}, last 10 minutes`}>
        <polyline points={points} fill="none" stroke="currentColor" strokeWidth="1.5" />
      </svg>
      <figcaption>
        {label} (max {Math.round(top)})
      </figcaption>
    </figure>
  );
}

/** Stalls per viewer-minute above this are worth a look (one stall every five minutes). */
export const STALLS_WARN_PER_MINUTE = 0.2;

/** What the players report: stalls per viewer-minute, median buffer and throughput, and
 * the rendition mix (sessions per rendition, most played first). */
function PlayerFigures({ quality }: { quality: PlayerQuality | null | undefined }) {
  if (!quality) {
    return (
      <p className="player-quality-none" data-testid="player-quality">
        No player reports yet.
      </p>
    );
  }
  const mix = Object.entries(quality.renditions).sort((a, b) => b[1] - a[1]);
  const total = mix.reduce((sum, [, sessions]) => sum + sessions, 0);
  return (
    <div data-testid="player-quality">
      <h3>Players</h3>
      <dl className="figures">
        <dt>Reporting</dt>
        <dd>{quality.sessions}</dd>
        <dt>Stalls per viewer-minute</dt>
        <dd className={quality.stallsPerViewerMinute > STALLS_WARN_PER_MINUTE ? "warn" : undefined}>{quality.stallsPerViewerMinute.toFixed(2)}</dd>
        <dt>Median buffer</dt>
        <dd>{quality.bufferSec === null ? "–" : `${quality.bufferSec.toFixed(1)} s`}</dd>
        <dt>Median throughput</dt>
        <dd>{quality.throughputKbps === null ? "–" : `${(quality.throughputKbps / 1000).toFixed(1)} Mbit/s`}</dd>
      </dl>
      {mix.length > 0 && (
        <ul className="rendition-mix" aria-label="Rendition mix">
          {mix.map(([rendition, sessions]) => (
            <li key={rendition}>
              {rendition}: {sessions} ({Math.round((100 * sessions) / Math.max(1, total))} %)
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** Live bitrate, fps, drop rate and viewers: the last 10 minutes from the API, then every
 * sample the real-time channel brings (WebSocket, or its polling fallback); and what the
 * players report of their playback, from the latest sample. */
export function HealthPanel({ streamId, live }: { streamId: string; live: Health | null }) {
  const [samples, setSamples] = useState<HealthSample[]>([]);
  useEffect(() => {
    const abort = new AbortController();
    api<{ samples: HealthSample[] }>(`/api/streams/${encodeURIComponent(streamId)}/health?minutes=10`, { signal: abort.signal })
      .then((body) => setSamples(body.samples))
      .catch(() => undefined);
    return () => abort.abort();
  }, [streamId]);
  useEffect(() => {
    if (!live) return;
    const at = Date.parse(live.at);
    setSamples((current) => {
      if (current.length && current[current.length - 1]!.at >= at) return current;
      const sample = { at, bitrateKbps: live.bitrateKbps, fps: live.fps, dropRate: live.dropRate, viewers: live.viewers };
      return [...current, sample].filter((s) => s.at >= at - WINDOW_MS);
    });
  }, [live]);
  const latest = samples[samples.length - 1];
  return (
    <section className="card health-panel" aria-labelledby="health-title">
      <h2 id="health-title">Stream health</h2>
      <dl className="figures" data-testid="health-figures">
        <dt>Bitrate</dt>
        <dd>{latest ? `${Math.round(latest.bitrateKbps)} kbit/s` : "–"}</dd>
        <dt>Frame rate</dt>
        <dd>{latest ? `${latest.fps.toFixed(1)} fps` : "–"}</dd>
        <dt>Dropped</dt>
        <dd className={latest && latest.dropRate > 0.01 ? "warn" : undefined}>{latest ? `${(latest.dropRate * 100).toFixed(1)} %` : "–"}</dd>
        <dt>Viewers</dt>
        <dd>{latest ? latest.viewers : "–"}</dd>
      </dl>
      <Chart samples={samples} pick={(s) => s.bitrateKbps} label="Bitrate (kbit/s)" />
      <Chart samples={samples} pick={(s) => s.viewers} label="Viewers" />
      <PlayerFigures quality={live?.quality} />
    </section>
  );
}
