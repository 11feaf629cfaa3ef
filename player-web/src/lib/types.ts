// The shapes of mediad's HTTP API (docs/openapi.yaml); the real-time messages are in messages.ts.

/** `reconnecting`: the publisher left and may come back within the grace (viewers wait). */
export type StreamState = "preview" | "live" | "reconnecting" | "ended";
export type Role = "admin" | "creator" | "viewer";
export type ChatRole = "creator" | "admin" | "moderator" | "viewer" | "guest";

export interface User {
  id: number;
  handle: string;
  displayName: string;
  role: Role;
  createdAt: string;
}

export interface StreamCard {
  id: string;
  title: string;
  posterUrl: string;
  state: StreamState;
  creator: { handle: string; displayName: string };
  viewers: number;
  startAt: string | null;
  endedAt: string | null;
  ageRestricted: boolean;
  /** The live poster made from the latest keyframe, while on air; null otherwise (absent
   * from a server without thumbnails). The creator's posterUrl wins when set. */
  thumbnailUrl?: string | null;
}

export interface StreamDetail extends StreamCard {
  dvrWindowSec: number;
  slowModeSec: number;
  guestsMayChat: boolean;
  /** Real-time (WHEP) is the watch page's default mode where the browser can play it. */
  realtimePlayback: boolean;
  createdAt: string;
  updatedAt: string;
  hlsUrl: string;
  playerUrl: string;
  /** WHEP playback; absent where the server does not offer WebRTC. */
  whepUrl?: string;
  /** The longest clip the server cuts (clips.max_sec), where it says. */
  clipMaxSec?: number;
}

export interface Settings {
  dvrWindowSec: number;
  ageRestricted: boolean;
  watermark: boolean;
  slowModeSec: number;
  guestsMayChat: boolean;
  blockedWords: string[];
  realtimePlayback: boolean;
  /** Record every broadcast (the server's recording.enabled until the creator chose). */
  record: boolean;
  /** Days a broadcast recording is kept: null for the server's recording.keep_days, 0 for
   * until deleted. */
  recordKeepDays: number | null;
  /** Anyone may list and watch the replays; else only the creator, admins and moderators. */
  replaysPublic: boolean;
}

export type KeyKind = "primary" | "backup";

export interface KeysView {
  /** `srtStreamId`: the SRT stream id with the masked key. */
  keys: { kind: KeyKind; masked: string; createdAt: string; srtStreamId: string }[];
  rtmpServer: string;
  /** RTMP over TLS (`rtmps://HOST:PORT/APP`); absent where the server has no TLS. */
  rtmpsServer?: string;
  srtServer: string;
  srtPassphrase: string;
  srtEncrypted: boolean;
  /** WHIP ingest; absent where the server does not offer WebRTC. */
  whipUrl?: string;
}

export interface RevealedKey {
  kind: KeyKind;
  key: string;
  createdAt: string;
  rtmpServer: string;
  rtmpUrl: string;
  /** RTMP over TLS, and its whole URL with the key; absent without TLS. */
  rtmpsServer?: string;
  rtmpsUrl?: string;
  /** The whole caller URL (stream id percent-encoded, passphrase and pbkeylen if any). */
  srtUrl: string;
  /** `#!::r=APP/KEY,m=publish`, for encoders with a Stream ID field of their own. */
  srtStreamId: string;
  srtPassphrase: string;
  /** WHIP ingest, and its Bearer Token (the key itself); absent without WebRTC. */
  whipUrl?: string;
  whipToken?: string;
  publisherDisconnected?: boolean;
}

export interface HealthSample {
  at: number;
  bitrateKbps: number;
  fps: number;
  dropRate: number;
  viewers: number;
}

export type RecordingKind = "broadcast" | "clip";
/** `stopped`: the disk failed (full, or an I/O error) and the recording ended there. */
export type RecordingState = "recording" | "complete" | "stopped";

export interface RecordingRendition {
  name: string;
  /** 0 for the audio rendition. */
  width: number;
  height: number;
  codecs: string;
  bandwidth: number;
}

/** A past broadcast or a clip (GET /api/recordings/{id}); its URLs are the VOD routes. */
export interface Recording {
  id: string;
  streamId: string;
  kind: RecordingKind;
  /** Plain text: render it as text, never as HTML. */
  title: string;
  state: RecordingState;
  /** The daemon stopped (a crash) while it recorded; it ends at its last whole segment. */
  interrupted: boolean;
  startedAt: string;
  endedAt: string | null;
  durationSec: number;
  sizeBytes: number;
  renditions: RecordingRendition[];
  posterUrl: string;
  /** The multivariant playlist (VOD; EVENT while still recording). */
  playbackUrl: string;
  /** One progressive MP4 (a rendition and the audio). */
  downloadUrl: string;
  /** Who cut a clip (a handle); null for a broadcast recording. */
  createdBy: string | null;
}

/** A recent public replay, as discovery lists them (GET /api/replays). */
export interface Replay extends Recording {
  streamTitle: string;
  creator: { handle: string; displayName: string };
}
