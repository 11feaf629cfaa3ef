// What a stream's real-time messages add up to: the chat as shown, who you are, viewers,
// the latest health and status. A plain store (subscribe/getState) over ChatTransport, so
// React reads it with useSyncExternalStore and tests drive it with messages.
import { ChatTransport, type TransportMode } from "./chatTransport";
import type {
  Ack,
  ChatMessage,
  Command,
  EncoderAdviceItem,
  Hello,
  PlayerQuality,
  PublisherHealth,
  RecordingHealth,
  ServerMessage,
  Tip,
} from "./messages";
import type { StreamState } from "./types";

export const MAX_MESSAGES = 200;

export interface Health {
  at: string;
  bitrateKbps: number;
  fps: number;
  dropRate: number;
  viewers: number;
  advice: EncoderAdviceItem[];
  publishers: PublisherHealth[];
  /** The broadcast's recording; null (or absent) when it is not recorded. */
  recording?: RecordingHealth | null;
  /** What the players report of their playback; null until one did. */
  quality?: PlayerQuality | null;
}

export interface ChannelState {
  mode: TransportMode;
  you: Hello["you"] | null;
  messages: ChatMessage[];
  pinned: ChatMessage | null;
  viewers: number;
  slowModeSec: number;
  guestsMayChat: boolean;
  maxMessageLength: number;
  streamState: StreamState | null;
  dvrWindowSec: number | null;
  ageRestricted: boolean | null;
  health: Health | null;
  /** You were banned, or timed out until this time (ms). */
  banned: boolean;
  mutedUntil: number | null;
}

export const initialState: ChannelState = {
  mode: "closed",
  you: null,
  messages: [],
  pinned: null,
  viewers: 0,
  slowModeSec: 0,
  guestsMayChat: true,
  maxMessageLength: 500,
  streamState: null,
  dvrWindowSec: null,
  ageRestricted: null,
  health: null,
  banned: false,
  mutedUntil: null,
};

/** The state after one message (pure). */
export function reduce(state: ChannelState, message: ServerMessage): ChannelState {
  switch (message.type) {
    case "hello":
      return {
        ...state,
        you: message.you,
        viewers: message.viewers,
        slowModeSec: message.chat.slowModeSec,
        guestsMayChat: message.chat.guestsMayChat,
        maxMessageLength: message.chat.maxMessageLength,
        streamState: message.stream.state,
        banned: !message.you.canChat && message.you.role !== "guest" ? true : state.banned,
      };
    case "chat.history":
      return { ...state, messages: message.messages.slice(-MAX_MESSAGES), pinned: message.pinned ?? null };
    case "chat.message":
      if (state.messages.some((known) => known.id === message.id)) return state;
      return { ...state, messages: [...state.messages, message].slice(-MAX_MESSAGES) };
    case "chat.deleted":
      return {
        ...state,
        messages: state.messages.filter((known) => known.id !== message.id),
        pinned: state.pinned?.id === message.id ? null : state.pinned,
      };
    case "chat.pinned":
      return { ...state, pinned: message.message ?? null };
    case "chat.cleared":
      return { ...state, messages: [] };
    case "viewers":
      return { ...state, viewers: message.count };
    case "health": {
      const { at, bitrateKbps, fps, dropRate, viewers, advice = [], publishers = [], recording = null, quality = null } = message;
      return { ...state, health: { at, bitrateKbps, fps, dropRate, viewers, advice, publishers, recording, quality }, viewers };
    }
    case "stream.status":
      return { ...state, streamState: message.state };
    case "stream.settings":
      return {
        ...state,
        slowModeSec: message.slowModeSec,
        guestsMayChat: message.guestsMayChat,
        dvrWindowSec: message.dvrWindowSec,
        ageRestricted: message.ageRestricted,
      };
    case "moderation.slow_mode":
      return { ...state, slowModeSec: message.seconds };
    case "moderation.ban":
    case "moderation.unban":
    case "moderation.timeout": {
      if (!state.you || message.target.id !== state.you.id) return state;
      if (message.type === "moderation.ban") return { ...state, banned: true };
      if (message.type === "moderation.unban") return { ...state, banned: false, mutedUntil: null };
      return { ...state, mutedUntil: Date.parse(message.until) };
    }
    default:
      return state;
  }
}

type Listener = () => void;

export class StreamChannel {
  private state: ChannelState = initialState;
  private readonly listeners = new Set<Listener>();
  private readonly tipListeners = new Set<(tip: Tip) => void>();
  private readonly transport: ChatTransport;

  constructor(streamId: string, options: { pollIntervalMs?: number; baseUrl?: string; WebSocketImpl?: typeof WebSocket } = {}) {
    this.transport = new ChatTransport({
      streamId,
      ...options,
      onMessage: (message) => this.apply(message),
      onMode: (mode) => this.setState({ ...this.state, mode }),
    });
  }

  start(): void {
    this.transport.start();
  }

  stop(): void {
    this.transport.stop();
  }

  send(command: Command): Promise<Ack> {
    return this.transport.send(command);
  }

  apply(message: ServerMessage): void {
    if (message.type === "tip") for (const listener of this.tipListeners) listener(message);
    const next = reduce(this.state, message);
    if (next !== this.state) this.setState(next);
  }

  getState = (): ChannelState => this.state;

  subscribe = (listener: Listener): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** Tips as they arrive (the ticker queues them). */
  tips = {
    subscribe: (listener: (tip: Tip) => void): (() => void) => {
      this.tipListeners.add(listener);
      return () => this.tipListeners.delete(listener);
    },
  };

  private setState(next: ChannelState): void {
    this.state = next;
    for (const listener of this.listeners) listener();
  }
}
