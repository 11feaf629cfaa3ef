// A playback engine puts a live stream (or a recording of one) on a <video>: WebRTC (WHEP) in Real-time mode,
// hls.js (or the browser's own HLS) in LL-HLS mode. The player's hooks know engines only
// through this interface; which engine plays a stream is decided in one place, startEngine.ts.

/** Where a stream can be played from; each engine takes the address it speaks. */
export interface PlaybackSource {
  /** The LL-HLS multivariant playlist. */
  hlsUrl: string;
  /** The WHEP endpoint, where the server offers real-time playback. */
  whepUrl?: string;
  /** A recording (a replay or a clip), not a live stream: played from its start over its
   * whole length, its playlist a VOD one (EVENT while it is still being recorded). */
  vod?: boolean;
  /** The live stream's id, where the player reports: hls.js sends CMCD (cmcd.ts) with it
   * as the content id. */
  contentId?: string;
}

/** How the viewer watches: "realtime" (WebRTC, well under a second behind) or "llhls". */
export type PlaybackMode = "realtime" | "llhls";

/** A quality the viewer may pick; `id` (its media playlist) is what setRendition takes
 * and stays the same while the rendition exists, whatever else comes and goes. */
export interface Rendition {
  id: string;
  /** What it is: "1080p60 (source)", "720p", "Audio only". */
  label: string;
  audioOnly: boolean;
}

/** What an engine tells the player. */
export interface EngineEvents {
  /** The renditions on offer, best first; again whenever the set changes. */
  onRenditions(renditions: Rendition[]): void;
  /** The media is attached: playback may start now (the player starts it). */
  onReady(): void;
  /** Playback cannot go on; the words are for the viewer. The engine has stopped itself. */
  onFailed(message: string): void;
  /** This engine cannot play the source in this browser after all, which only the stream
   * itself told (hls.js: MSE plays none of its CODECS): it has stopped, and the player
   * starts the next engine that might (the browser's own HLS). */
  onHandOver(kind: EngineKind): void;
}

/** Which way the stream reaches the element: WHEP, hls.js over Media Source Extensions, or
 * the browser's own HLS through `<video src>` (Safari's path). */
export type EngineKind = "webrtc" | "hlsjs" | "native";

export interface PlaybackEngine {
  readonly kind: EngineKind;
  /** A rendition's id, or null to let the engine choose. */
  setRendition(id: string | null): void;
  /** The stream is back after a gap (its publisher reconnected): load again now rather
   * than at the next retry. */
  resume(): void;
  /** Where live playback should sit on the element's timeline, when the engine knows. */
  liveSyncPosition(): number | null;
  /** The engine's own estimate of the latency behind the live edge (s), when it has one. */
  latency(): number | null;
  /** The rendition playing now, for the reports: the server's name for it ("720p",
   * "source") where the engine knows it, else the engine's own label; "" when unknown. */
  currentRendition(): string;
  /** The throughput the engine measured (bits per second), when it measures one. */
  throughput?(): number | null;
  /** Stop and let go of the element (the player clears its source afterwards). */
  destroy(): void;
}

/** Starts an engine on `element`, or resolves null when it cannot play `source` in this
 * browser (the next one is tried). Resolves null too when `signal` aborted meanwhile. */
export type StartEngine = (
  element: HTMLVideoElement,
  source: PlaybackSource,
  events: EngineEvents,
  signal: AbortSignal,
) => Promise<PlaybackEngine | null>;

/** One way of playing a stream, as startEngine.ts lists them. */
export interface Engine {
  kind: EngineKind;
  /** The mode it plays in. */
  mode: PlaybackMode;
  start: StartEngine;
  /** Fetch its code ahead of need, for an engine that is a chunk of its own. */
  preload?: () => void;
}
