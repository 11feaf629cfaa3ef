// Which mode the player starts in, and what the viewer is shown of it. Real-time needs the
// server's WHEP endpoint and a browser with WebRTC; it is the default only where the creator
// made it so (the stream's realtimePlayback setting). The viewer may switch at any time.
import type { PlaybackMode, PlaybackSource } from "./engine";
import { webrtcSupported } from "./webrtcEngine";

export const MODE_LABELS: Record<PlaybackMode, string> = { realtime: "Real-time", llhls: "LL-HLS" };

export function canPlayRealtime(source: PlaybackSource): boolean {
  return Boolean(source.whepUrl) && webrtcSupported();
}

export function initialMode(source: PlaybackSource, realtimeDefault: boolean): PlaybackMode {
  return realtimeDefault && canPlayRealtime(source) ? "realtime" : "llhls";
}

/** What the viewer reads when real-time playback gave up and LL-HLS took over. */
export function fallbackNotice(reason: string): string {
  const sentence = /[.!?]$/.test(reason.trim()) ? reason.trim() : `${reason.trim()}.`;
  return `Real-time playback stopped: ${sentence} Playing LL-HLS instead.`;
}
