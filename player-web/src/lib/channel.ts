// What a stream's real-time messages add up to: the chat as shown, who you are, viewers,
// the latest health and status. A plain store (subscribe/getState) over ChatTransport, so
// React reads it with useSyncExternalStore and tests drive it with messages.
import { ChatTransport, type Ack, type Command, type TransportMode } from "./chatTransport";
import type { ChatMessage, Hello, RealtimeMessage, StreamState, Tip } from "./types";

export const MAX_MESSAGES = 200;

export interface Health {
  at: string;
  bitrateKbps: number;
  fps: number;
  dropRate: number;
  viewers: number;
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

function targetId(target: unknown): string | undefined {
  if (typeof target === "string") return target;
  if (target && typeof target === "object" && "id" in target) return String((target as { id: unknown }).id);
  return undefined;
}

/** The state after one message (pure). */
export function reduce(state: ChannelState, message: RealtimeMessage): ChannelState {
  const m = message as Record<string, any>;
  switch (message.type) {
    case "hello": {
      const hello = message as unknown as Hello;
      return {
        ...state,
        you: hello.you,
        viewers: hello.viewers,
        slowModeSec: hello.chat.slowModeSec,
        guestsMayChat: hello.chat.guestsMayChat,
        maxMessageLength: hello.chat.maxMessageLength,
        streamState: hello.stream.state,
        banned: !hello.you.canChat && hello.you.role !== "guest" ? true : state.banned,
      };
    }
    case "chat.history":
      return { ...state, messages: (m.messages as ChatMessage[]).slice(-MAX_MESSAGES), pinned: m.pinned ?? null };
    case "chat.message": {
      const chat = message as unknown as ChatMessage;
      if (state.messages.some((known) => known.id === chat.id)) return state;
      return { ...state, messages: [...state.messages, chat].slice(-MAX_MESSAGES) };
    }
    case "chat.deleted":
      return {
        ...state,
        messages: state.messages.filter((known) => known.id !== m.id),
        pinned: state.pinned?.id === m.id ? null : state.pinned,
      };
    case "chat.pinned":
      return { ...state, pinned: (m.message as ChatMessage | null) ?? null };
    case "chat.cleared":
      return { ...state, messages: [] };
    case "viewers":
      return { ...state, viewers: Number(m.count) };
    case "health":
      return {
        ...state,
        health: { at: m.at, bitrateKbps: m.bitrateKbps, fps: m.fps, dropRate: m.dropRate, viewers: m.viewers },
        viewers: typeof m.viewers === "number" ? m.viewers : state.viewers,
      };
    case "stream.status":
      return { ...state, streamState: m.state as StreamState };
    case "stream.settings":
      return {
        ...state,
        slowModeSec: m.slowModeSec ?? state.slowModeSec,
        guestsMayChat: m.guestsMayChat ?? state.guestsMayChat,
        dvrWindowSec: m.dvrWindowSec ?? state.dvrWindowSec,
        ageRestricted: m.ageRestricted ?? state.ageRestricted,
      };
    case "moderation.slow_mode":
      return { ...state, slowModeSec: Number(m.seconds) };
    case "moderation.ban":
    case "moderation.unban":
    case "moderation.timeout": {
      if (!state.you || targetId(m.target) !== state.you.id) return state;
      if (message.type === "moderation.ban") return { ...state, banned: true };
      if (message.type === "moderation.unban") return { ...state, banned: false, mutedUntil: null };
      return { ...state, mutedUntil: Date.parse(m.until) };
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

  apply(message: RealtimeMessage): void {
    if (message.type === "tip") for (const listener of this.tipListeners) listener(message as unknown as Tip);
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
