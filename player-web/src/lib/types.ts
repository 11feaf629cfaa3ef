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
}

export interface Settings {
  dvrWindowSec: number;
  ageRestricted: boolean;
  watermark: boolean;
  slowModeSec: number;
  guestsMayChat: boolean;
  blockedWords: string[];
  realtimePlayback: boolean;
}

export type KeyKind = "primary" | "backup";

export interface KeysView {
  /** `srtStreamId`: the SRT stream id with the masked key. */
  keys: { kind: KeyKind; masked: string; createdAt: string; srtStreamId: string }[];
  rtmpServer: string;
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
