// Common Media Client Data (CTA-5004): hls.js tells the server, with each playlist, part and
// segment request, the player's buffer, measured throughput, the rendition's bitrate, stalls
// (bs) and startup (su), under one session id. Sent as the CMCD-* request headers, never in
// the URL: a query argument would make every viewer's URL unique and defeat a caching edge.
// The same session id goes with the player's own reports (metrics.ts), so the server counts
// one viewer from both.
//
// Only for media from the page's own origin: cross-origin (MEDIA_ORIGIN, a caching edge),
// custom headers make every request a CORS preflight, and browsers cache a preflight per
// URL, so each part would cost one more round trip and one more request. There the
// player's reports carry its quality instead (an edge answers most media requests from its
// cache anyway, so the origin would see little of that CMCD).
import { env } from "../env";

/** hls.js's `cmcd` configuration (CMCDControllerConfig), as far as the player sets it. */
export interface CmcdSettings {
  sessionId: string;
  contentId?: string;
  useHeaders: true;
}

/** A random id (a UUID where the browser makes one). */
export function newSessionId(): string {
  if (typeof crypto !== "undefined" && typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** One per page view: the CMCD `sid` of every request and the `sessionId` of every report. */
export const playerSessionId: string = newSessionId();

/** Whether `url` (a playlist) is on the page's own origin. */
export function sameOrigin(url: string): boolean {
  return new URL(url, window.location.href).origin === window.location.origin;
}

/** CMCD for a live playback of `contentId` (the stream) from `mediaUrl`, where the player
 * reports; nothing for a replay or the control room's preview (no content id), for media
 * from another origin, or where the player does not report (VITE_METRICS=false). */
export function cmcdSettings(contentId: string | undefined, mediaUrl: string, enabled: boolean = env.metrics): CmcdSettings | undefined {
  if (!enabled || !contentId || !sameOrigin(mediaUrl)) return undefined;
  // CTA-5004: cid is at most 64 characters.
  return { sessionId: playerSessionId, contentId: contentId.slice(0, 64), useHeaders: true };
}
