// Recordings, replays and clips over the HTTP API (docs/openapi.yaml), and where their media
// lives (the daemon's /vod and /thumbs routes, on the media origin like the live playlists).
import { api } from "./api";
import { env } from "./env";
import type { Recording, Replay } from "./types";

const stream = (streamId: string) => `/api/streams/${encodeURIComponent(streamId)}`;
const recording = (id: string) => `/api/recordings/${encodeURIComponent(id)}`;

/** The longest clip to offer when the server does not say (clips.max_sec's default). */
export const DEFAULT_CLIP_MAX_SEC = 60;
/** The clip lengths offered, cut down to the server's maximum. */
export const CLIP_LENGTHS_SEC = [15, 30, 60] as const;
/** The server refuses longer clip titles. */
export const CLIP_TITLE_MAX = 120;
export const REPLAYS_SHOWN = 12;

/** A stream's past broadcasts, newest first (401/403 where its replays are private). */
export async function streamRecordings(streamId: string, signal?: AbortSignal): Promise<Recording[]> {
  return (await api<{ recordings: Recording[] }>(`${stream(streamId)}/recordings`, { signal })).recordings;
}

/** A stream's clips, newest first. */
export async function streamClips(streamId: string, signal?: AbortSignal): Promise<Recording[]> {
  return (await api<{ clips: Recording[] }>(`${stream(streamId)}/clips`, { signal })).clips;
}

/** The latest public broadcast recordings of every stream, newest first. */
export async function recentReplays(limit = REPLAYS_SHOWN, signal?: AbortSignal): Promise<Replay[]> {
  return (await api<{ replays: Replay[] }>(`/api/replays?limit=${limit}`, { signal, refresh: false })).replays;
}

export function getRecording(id: string, signal?: AbortSignal): Promise<Recording> {
  return api<Recording>(recording(id), { signal });
}

export function deleteRecording(id: string): Promise<void> {
  return api<void>(recording(id), { method: "DELETE" });
}

/** Cuts the last `durationSec` seconds of a live stream; the server says no with 401 (signed
 * out), 409 (not live), 429 (too many, with Retry-After). An empty title is left out. */
export function createClip(streamId: string, durationSec: number, title = ""): Promise<Recording> {
  const body: { durationSec: number; title?: string } = { durationSec };
  if (title.trim()) body.title = title.trim();
  return api<Recording>(`${stream(streamId)}/clips`, { method: "POST", body });
}

/** The lengths a viewer may pick, given the server's maximum (the maximum itself when it is
 * shorter than every preset). */
export function clipLengths(maxSec: number = DEFAULT_CLIP_MAX_SEC): number[] {
  const offered = CLIP_LENGTHS_SEC.filter((seconds) => seconds <= maxSec);
  return offered.length ? offered : [Math.max(1, Math.floor(maxSec))];
}

/** A daemon path (/vod/..., /thumbs/...) on the media origin; anything else as it is. */
export function mediaUrl(path: string): string {
  return path.startsWith("/") && !path.startsWith("//") ? `${env.mediaOrigin}${path}` : path;
}

/** The route of the app's replay page. */
export function replayPath(id: string): string {
  return `/replay/${encodeURIComponent(id)}`;
}

/** The picture of a recording or a live stream: the creator's own poster when set. */
export function pictureOf(posterUrl: string | undefined | null, generated: string | undefined | null): string | null {
  if (posterUrl) return posterUrl;
  return generated ? mediaUrl(generated) : null;
}
