// The shapes of mediad's API (docs/openapi.yaml) and real-time messages (docs/realtime.md).

export type StreamState = "preview" | "live" | "ended";
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
  createdAt: string;
  updatedAt: string;
  hlsUrl: string;
  playerUrl: string;
}

export interface Settings {
  dvrWindowSec: number;
  ageRestricted: boolean;
  watermark: boolean;
  slowModeSec: number;
  guestsMayChat: boolean;
  blockedWords: string[];
}

export type KeyKind = "primary" | "backup";

export interface KeysView {
  keys: { kind: KeyKind; masked: string; createdAt: string }[];
  rtmpServer: string;
  srtServer: string;
  srtPassphrase: string;
  srtEncrypted: boolean;
}

export interface RevealedKey {
  kind: KeyKind;
  key: string;
  createdAt: string;
  rtmpServer: string;
  rtmpUrl: string;
  srtUrl: string;
  srtPassphrase: string;
  publisherDisconnected?: boolean;
}

export interface HealthSample {
  at: number;
  bitrateKbps: number;
  fps: number;
  dropRate: number;
  viewers: number;
}

export interface Author {
  id: string;
  handle: string;
  role: ChatRole;
}

export interface ChatMessage {
  type: "chat.message";
  id: string;
  author: Author;
  text: string;
  at: string;
  seq?: number;
}

export interface Tip {
  type: "tip";
  id: number;
  amountMinor: number;
  currency: string;
  from: string;
  message: string;
  at: string;
  seq?: number;
}

export interface Hello {
  type: "hello";
  streamId: string;
  cursor: number;
  you: { id: string; handle: string; role: ChatRole; canChat: boolean; canModerate: boolean };
  stream: { state: StreamState; title: string };
  chat: { slowModeSec: number; guestsMayChat: boolean; maxMessageLength: number };
  viewers: number;
  pollAfterMs: number;
}

/** Any message of the real-time protocol; `type` says which. */
export interface RealtimeMessage {
  type: string;
  seq?: number;
  [field: string]: unknown;
}
