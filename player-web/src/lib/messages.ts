// The real-time protocol's messages (docs/realtime.md, mediad/realtime/messages.py): what
// the server sends, what a client may send, and what a command gets back.
import type { ChatRole, StreamState } from "./types";

/** A chatter: `id` is "u:12" for an account, "g:<guest id>" for a guest. */
export interface Author {
  id: string;
  handle: string;
  role: ChatRole;
}

/** Who took a moderation action, or whom it is about (no role is sent). */
export interface Person {
  id: string;
  handle: string;
}

/** Stored before anyone hears it; `seq` (1, 2, 3… per stream) is what a cursor resumes
 * from. Absent on a body nested in another message (`chat.history`, `chat.pinned`). */
interface Durable {
  seq?: number;
  at: string;
}

/** Not kept and not replayed: never has a `seq`. */
interface Ephemeral {
  seq?: undefined;
}

/** A staff action on the chat: who did it. */
interface Moderated extends Durable {
  by: Person;
}

// -- server to client ---------------------------------------------------------------------

export interface ChatMessage extends Durable {
  type: "chat.message";
  id: string;
  author: Author;
  /** Plain text: render it as text, never as HTML. */
  text: string;
}

export interface ChatDeleted extends Moderated {
  type: "chat.deleted";
  id: string;
}

export interface ChatPinned extends Moderated {
  type: "chat.pinned";
  message: ChatMessage | null;
}

export interface ChatCleared extends Moderated {
  type: "chat.cleared";
}

export interface Tip extends Durable {
  type: "tip";
  id: number;
  /** Integer, in the currency's minor units. */
  amountMinor: number;
  /** ISO 4217. */
  currency: string;
  from: string;
  message: string;
}

export interface StreamStatus extends Durable {
  type: "stream.status";
  state: StreamState;
}

/** The settings a viewer's player and chat act on (the blocked words are never sent). */
export interface StreamSettings extends Durable {
  type: "stream.settings";
  dvrWindowSec: number;
  ageRestricted: boolean;
  slowModeSec: number;
  guestsMayChat: boolean;
}

export interface ModerationTimeout extends Moderated {
  type: "moderation.timeout";
  target: Person;
  seconds: number;
  until: string;
}

export interface ModerationBan extends Moderated {
  type: "moderation.ban";
  target: Person;
}

export interface ModerationUnban extends Moderated {
  type: "moderation.unban";
  target: Person;
}

export interface ModerationSlowMode extends Moderated {
  type: "moderation.slow_mode";
  /** 0: off. */
  seconds: number;
}

export interface Hello extends Ephemeral {
  type: "hello";
  streamId: string;
  /** The latest `seq` when you joined. */
  cursor: number;
  you: { id: string; handle: string; role: ChatRole; canChat: boolean; canModerate: boolean };
  stream: { state: StreamState; title: string };
  chat: { slowModeSec: number; guestsMayChat: boolean; maxMessageLength: number };
  viewers: number;
  pollAfterMs: number;
}

export interface ChatHistory extends Ephemeral {
  type: "chat.history";
  /** The last visible messages, oldest first. */
  messages: ChatMessage[];
  pinned: ChatMessage | null;
}

/** The cursor was too old: a fresh `chat.history` follows. */
export interface Resync extends Ephemeral {
  type: "resync";
  reason: string;
}

/** An encoder setting that hurts viewers (docs/realtime.md, "Encoder advice"). */
export interface EncoderAdviceItem {
  /** Stable: keyframe_interval, b_frames, bitrate, audio_sample_rate, variable_frame_rate. */
  code: string;
  value: number;
  unit: string;
  limit: number | null;
  /** What is wrong, in words. */
  message: string;
  /** What to set in OBS. */
  obs: string;
}

/** One of the stream's encoders: the one on air or the hot standby on the other key. */
export interface PublisherHealth {
  role: "active" | "standby";
  key: "primary" | "backup";
  protocol: string;
  frames: number;
  bitrateKbps: number;
  fps: number;
  /** Seconds since its last media frame. */
  sinceMediaSec: number;
  /** On air, or held warm from a keyframe: a takeover plays at once. */
  ready: boolean;
}

/** The recording of the broadcast, in its health message while it is recorded. */
export interface RecordingHealth {
  recordingId: string;
  /** `stopped`: the disk failed (full, or an I/O error); the live stream goes on. */
  state: "recording" | "stopped";
  durationSec: number;
  sizeBytes: number;
  /** Segments the disk could not keep up with (left out of the recording). */
  skippedSegments: number;
  /** Why the recording fell behind or stopped; null while all is well. */
  warning: string | null;
}

/** What the stream's players report of their playback (CMCD and their own reports), in
 * the health message once any player did. */
export interface PlayerQuality {
  /** Players heard from in the last minute. */
  sessions: number;
  /** The rendition mix: those players by the rendition they play, most played first. */
  renditions: Record<string, number>;
  /** Stalls and time spent playing, over the broadcast. */
  stalls: number;
  viewingSec: number;
  stallsPerViewerMinute: number;
  /** Medians of the reporting players; null before any told. */
  bufferSec: number | null;
  throughputKbps: number | null;
}

export interface HealthMessage extends Ephemeral {
  type: "health";
  bitrateKbps: number;
  fps: number;
  /** 0-1, the worst of the ingest readers and transcoder rungs. */
  dropRate: number;
  viewers: number;
  at: string;
  /** Absent from servers older than encoder advice. */
  advice?: EncoderAdviceItem[];
  /** Absent from servers older than hot standby. */
  publishers?: PublisherHealth[];
  /** While the broadcast is recorded; absent otherwise. */
  recording?: RecordingHealth | null;
  /** Absent until a player reported (and from servers older than player quality). */
  quality?: PlayerQuality;
}

export interface ViewersMessage extends Ephemeral {
  type: "viewers";
  count: number;
  at: string;
}

/** A command's `ref`, echoed in its `ack` or `error`. */
export type CommandRef = string | number;

/** What a command got back: its `ack` over the socket, the reply's body over HTTP. */
export interface Ack {
  command?: string;
  /** For `chat.send`: the message's id, seq and time. */
  id?: string;
  seq?: number;
  at?: string;
}

export interface AckMessage extends Ack {
  type: "ack";
  ref?: CommandRef;
}

export interface ErrorMessage extends Ephemeral {
  type: "error";
  code: string;
  message: string;
  ref?: CommandRef;
  /** The HTTP equivalent. */
  status?: number;
  /** Slow mode, rate limits, timeouts: how long to wait. */
  retryAfterMs?: number;
}

export interface Pong extends Ephemeral {
  type: "pong";
  ref?: CommandRef;
}

/** Any message the server sends; `type` says which. */
export type ServerMessage =
  | Hello
  | ChatHistory
  | Resync
  | ChatMessage
  | ChatDeleted
  | ChatPinned
  | ChatCleared
  | Tip
  | StreamStatus
  | StreamSettings
  | ModerationTimeout
  | ModerationBan
  | ModerationUnban
  | ModerationSlowMode
  | HealthMessage
  | ViewersMessage
  | AckMessage
  | ErrorMessage
  | Pong;

/** The envelope every message has. The server speaks docs/realtime.md; a client ignores
 * types it does not know, so this is all that is checked of what arrives. */
export function isServerMessage(value: unknown): value is ServerMessage {
  return typeof value === "object" && value !== null && typeof (value as { type?: unknown }).type === "string";
}

// -- client to server ---------------------------------------------------------------------

export type Command =
  | { type: "chat.send"; text: string }
  | { type: "chat.delete"; messageId: string }
  /** A null messageId unpins. */
  | { type: "chat.pin"; messageId: string | null }
  | { type: "chat.clear" }
  /** `target` is an author's id; 1 - 1209600 s. */
  | { type: "moderation.timeout"; target: string; seconds: number }
  | { type: "moderation.ban"; target: string }
  | { type: "moderation.unban"; target: string }
  /** 0 - 3600 s; 0 turns it off. */
  | { type: "moderation.slow_mode"; seconds: number }
  | { type: "auth"; token: string }
  | { type: "ping" };
