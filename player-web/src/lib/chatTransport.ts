// One stream's real-time channel: a WebSocket while it works, 4 s HTTP polling while it
// does not, and back to the WebSocket as soon as one opens again. Either way messages are
// resumed from the last durable `seq` seen, so a switch neither loses nor repeats one.
import { ApiError, api } from "./api";
import { isServerMessage, type Ack, type Command, type ServerMessage } from "./messages";

export type TransportMode = "connecting" | "socket" | "polling" | "closed";

export interface ChatTransportOptions {
  streamId: string;
  onMessage: (message: ServerMessage) => void;
  onMode?: (mode: TransportMode) => void;
  /** Origin of the API ("" = this page's). */
  baseUrl?: string;
  pollIntervalMs?: number;
  /** While polling, how soon to try the WebSocket again (doubles up to a minute). */
  socketRetryMs?: number;
  commandTimeoutMs?: number;
  WebSocketImpl?: typeof WebSocket;
}

interface PollReply {
  cursor: number;
  events: ServerMessage[];
  more: boolean;
  pollAfterMs: number;
}

interface Pending {
  resolve: (ack: Ack) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

const MAX_BACKOFF_MS = 60_000;

/** The HTTP equivalent of each WebSocket command (docs/realtime.md). */
export function httpCommand(streamId: string, command: Command): { method: string; path: string; body?: unknown } {
  const base = `/api/streams/${encodeURIComponent(streamId)}`;
  switch (command.type) {
    case "chat.send":
      return { method: "POST", path: `${base}/chat`, body: { text: command.text } };
    case "chat.delete":
      return { method: "DELETE", path: `${base}/chat/${encodeURIComponent(command.messageId)}` };
    case "chat.pin":
      return { method: "PUT", path: `${base}/chat-pin`, body: { messageId: command.messageId ?? null } };
    case "chat.clear":
      return { method: "POST", path: `${base}/chat-clear` };
    case "moderation.timeout":
      return { method: "POST", path: `${base}/moderation/timeouts`, body: { target: command.target, seconds: command.seconds } };
    case "moderation.ban":
      return { method: "PUT", path: `${base}/moderation/bans/${encodeURIComponent(command.target)}` };
    case "moderation.unban":
      return { method: "DELETE", path: `${base}/moderation/bans/${encodeURIComponent(command.target)}` };
    case "moderation.slow_mode":
      return { method: "PUT", path: `${base}/slow-mode`, body: { seconds: command.seconds } };
    default:
      throw new Error(`no HTTP form for ${command.type}`);
  }
}

export class ChatTransport {
  /** The highest durable `seq` handed on; what a reconnect or a poll resumes from. */
  cursor: number | null = null;
  mode: TransportMode = "closed";

  private readonly options: Required<Omit<ChatTransportOptions, "onMode" | "WebSocketImpl">> &
    Pick<ChatTransportOptions, "onMode" | "WebSocketImpl">;
  private socket: WebSocket | null = null;
  private pollTimer: ReturnType<typeof setTimeout> | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private socketRetryMs: number;
  private pollFailures = 0;
  private polling = false;
  private stopped = true;
  private nextRef = 1;
  private readonly pending = new Map<string, Pending>();

  constructor(options: ChatTransportOptions) {
    this.options = {
      baseUrl: "",
      pollIntervalMs: 4000,
      socketRetryMs: 15_000,
      commandTimeoutMs: 10_000,
      ...options,
    };
    this.socketRetryMs = this.options.socketRetryMs;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.stopPolling();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onclose = null;
      socket.close(1000);
    }
    this.failPending("the chat connection was closed");
    this.setMode("closed");
  }

  /** Send a command over the socket if it is open, else over HTTP; resolves with its ack. */
  async send(command: Command): Promise<Ack> {
    const socket = this.socket;
    if (this.mode === "socket" && socket && socket.readyState === 1) {
      const ref = `c${this.nextRef++}`;
      return new Promise<Ack>((resolve, reject) => {
        const timer = setTimeout(() => {
          this.pending.delete(ref);
          reject(new ApiError(0, "no answer from the server"));
        }, this.options.commandTimeoutMs);
        this.pending.set(ref, { resolve, reject, timer });
        socket.send(JSON.stringify({ ...command, ref }));
      });
    }
    const { method, path, body } = httpCommand(this.options.streamId, command);
    const ack = await api<Ack>(path, { method, body });
    if (this.polling) this.pollSoon(0); // show the result now, not in 4 s
    return ack ?? {};
  }

  // -- receiving ------------------------------------------------------------------------

  private receive(message: ServerMessage): void {
    if (message.type === "ack" || message.type === "error") {
      const ref = typeof message.ref === "string" ? message.ref : undefined;
      const pending = ref ? this.pending.get(ref) : undefined;
      if (pending && ref) {
        this.pending.delete(ref);
        clearTimeout(pending.timer);
        if (message.type === "ack") pending.resolve(message);
        else
          pending.reject(
            new ApiError(
              Number(message.status ?? 400),
              String(message.message ?? "refused"),
              typeof message.code === "string" ? message.code : undefined,
              undefined,
              typeof message.retryAfterMs === "number" ? message.retryAfterMs : undefined,
            ),
          );
        return;
      }
    }
    if (message.type === "hello" && this.cursor === null && typeof message.cursor === "number") {
      this.cursor = message.cursor;
    }
    if (message.type === "resync") this.cursor = null;
    if (typeof message.seq === "number") {
      if (this.cursor !== null && message.seq <= this.cursor) return; // seen already
      this.cursor = message.seq;
    }
    this.options.onMessage(message);
  }

  // -- the WebSocket --------------------------------------------------------------------

  private socketUrl(): string {
    const origin = this.options.baseUrl || window.location.origin;
    const url = new URL(`/ws/streams/${encodeURIComponent(this.options.streamId)}`, origin);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    if (this.cursor !== null) url.searchParams.set("cursor", String(this.cursor));
    return url.toString();
  }

  private connect(): void {
    if (this.stopped) return;
    if (!this.polling) this.setMode("connecting");
    const Impl = this.options.WebSocketImpl ?? WebSocket;
    let socket: WebSocket;
    try {
      socket = new Impl(this.socketUrl());
    } catch {
      this.socketLost();
      return;
    }
    this.socket = socket;
    let opened = false;
    socket.onopen = () => {
      opened = true;
      this.socketRetryMs = this.options.socketRetryMs;
      this.stopPolling();
      this.setMode("socket");
    };
    socket.onmessage = (event: MessageEvent) => {
      if (typeof event.data !== "string") return;
      let body: unknown;
      try {
        body = JSON.parse(event.data);
      } catch {
        return;
      }
      const messages: unknown[] = Array.isArray(body) ? body : [body];
      for (const message of messages) if (isServerMessage(message)) this.receive(message);
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.failPending("the chat connection was lost");
      if (!opened) this.socketRetryMs = Math.min(this.socketRetryMs * 2, MAX_BACKOFF_MS);
      this.socketLost();
    };
  }

  /** Poll (from the cursor, so nothing is missed) and try the socket again later. */
  private socketLost(): void {
    if (this.stopped) return;
    this.startPolling();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, this.socketRetryMs);
  }

  private failPending(reason: string): void {
    for (const [ref, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(new ApiError(0, reason));
      this.pending.delete(ref);
    }
  }

  // -- polling --------------------------------------------------------------------------

  private startPolling(): void {
    if (this.polling) return;
    this.polling = true;
    this.pollFailures = 0;
    this.setMode("polling");
    this.pollSoon(0);
  }

  private stopPolling(): void {
    this.polling = false;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = null;
  }

  private pollSoon(delayMs: number): void {
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = setTimeout(() => void this.poll(), delayMs);
  }

  private async poll(): Promise<void> {
    this.pollTimer = null;
    if (!this.polling || this.stopped) return;
    const query = this.cursor === null ? "" : `?cursor=${this.cursor}`;
    let delay = this.options.pollIntervalMs;
    try {
      const reply = await api<PollReply>(
        `/api/streams/${encodeURIComponent(this.options.streamId)}/events${query}`,
      );
      if (!this.polling) return; // the socket came back while this poll was out
      for (const message of reply.events) this.receive(message);
      this.cursor = Math.max(this.cursor ?? 0, reply.cursor);
      this.pollFailures = 0;
      delay = reply.more ? 0 : reply.pollAfterMs || this.options.pollIntervalMs;
    } catch {
      this.pollFailures += 1;
      delay = Math.min(this.options.pollIntervalMs * 2 ** this.pollFailures, MAX_BACKOFF_MS);
    }
    if (this.polling && !this.stopped && this.pollTimer === null) this.pollSoon(delay);
  }

  private setMode(mode: TransportMode): void {
    if (this.mode === mode) return;
    this.mode = mode;
    this.options.onMode?.(mode);
  }
}
