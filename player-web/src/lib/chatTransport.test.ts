import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { asWebSocket, FakeWebSocket, fakeFetch } from "../test/fakes";
import { ApiError } from "./api";
import { ChatTransport, httpCommand, type TransportMode } from "./chatTransport";
import type { ServerMessage } from "./messages";

const hello = (cursor: number) => ({ type: "hello", cursor, you: { id: "g:1" }, chat: {}, stream: {} });
const chat = (seq: number, text = `m${seq}`) => ({ type: "chat.message", seq, id: `id${seq}`, text });

function setup(routes: Parameters<typeof fakeFetch>[0] = {}) {
  const received: ServerMessage[] = [];
  const modes: TransportMode[] = [];
  const network = fakeFetch(routes);
  const transport = new ChatTransport({
    streamId: "s1",
    baseUrl: "http://localhost",
    WebSocketImpl: asWebSocket,
    pollIntervalMs: 4000,
    socketRetryMs: 15000,
    onMessage: (message) => received.push(message),
    onMode: (mode) => modes.push(mode),
  });
  return { transport, received, modes, network };
}

describe("ChatTransport", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    FakeWebSocket.reset();
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it("joins over the WebSocket and keeps the cursor", () => {
    const { transport, received, modes } = setup();
    transport.start();
    const socket = FakeWebSocket.last();
    expect(socket.url).toBe("ws://localhost/ws/streams/s1");
    socket.open();
    socket.receive(hello(7), { type: "chat.history", messages: [] });
    socket.receive([chat(8), chat(9)]);
    expect(received.map((m) => m.type)).toEqual(["hello", "chat.history", "chat.message", "chat.message"]);
    expect(transport.cursor).toBe(9);
    expect(modes).toEqual(["connecting", "socket"]);
  });

  it("opens wss:// when the page came over https://", () => {
    const transport = new ChatTransport({
      streamId: "s 1",
      baseUrl: "https://media.example:8443",
      WebSocketImpl: asWebSocket,
      onMessage: () => {},
      onMode: () => {},
    });
    transport.start();
    expect(FakeWebSocket.last().url).toBe("wss://media.example:8443/ws/streams/s%201");
    transport.stop();
  });

  it("falls back to polling from its cursor, misses nothing, and goes back to the socket", async () => {
    let polls = 0;
    const { transport, received, modes, network } = setup({
      "GET /api/streams/s1/events": (call) => {
        polls += 1;
        expect(call.path).toBe(polls === 1 ? "/api/streams/s1/events?cursor=9" : "/api/streams/s1/events?cursor=11");
        return polls === 1
          ? { body: { cursor: 11, events: [chat(10), chat(11)], more: false, pollAfterMs: 4000 } }
          : { body: { cursor: 11, events: [], more: false, pollAfterMs: 4000 } };
      },
    });
    transport.start();
    FakeWebSocket.last().open();
    FakeWebSocket.last().receive(hello(8), chat(9));
    FakeWebSocket.last().drop(1013);
    expect(transport.mode).toBe("polling");
    await vi.advanceTimersByTimeAsync(0);
    expect(received.filter((m) => m.type === "chat.message").map((m) => m.seq)).toEqual([9, 10, 11]);
    await vi.advanceTimersByTimeAsync(4000);
    expect(polls).toBe(2);
    // The retry opens a new socket that resumes after the last seq, and polling stops.
    await vi.advanceTimersByTimeAsync(11000);
    const again = FakeWebSocket.last();
    expect(again.url).toBe("ws://localhost/ws/streams/s1?cursor=11");
    again.open();
    again.receive(chat(11), chat(12)); // 11 replayed by the server: not repeated
    expect(received.filter((m) => m.type === "chat.message").map((m) => m.seq)).toEqual([9, 10, 11, 12]);
    const before = network.calls.length;
    await vi.advanceTimersByTimeAsync(20000);
    expect(network.calls.length).toBe(before);
    expect(modes).toEqual(["connecting", "socket", "polling", "socket"]);
  });

  it("polls from the start when the socket never opens, and backs off the socket", async () => {
    const { transport, received } = setup({
      "GET /api/streams/s1/events": () => ({
        body: { cursor: 3, events: [hello(3), { type: "chat.history", messages: [] }], more: false, pollAfterMs: 4000 },
      }),
    });
    transport.start();
    FakeWebSocket.last().drop();
    await vi.advanceTimersByTimeAsync(0);
    expect(received[0]?.type).toBe("hello");
    expect(transport.cursor).toBe(3);
    await vi.advanceTimersByTimeAsync(30000); // retried once, after 30 s (doubled)
    expect(FakeWebSocket.instances.length).toBe(2);
  });

  it("asks again at once when a poll says there is more", async () => {
    let polls = 0;
    const { transport } = setup({
      "GET /api/streams/s1/events": () => {
        polls += 1;
        return { body: { cursor: polls, events: [chat(polls)], more: polls < 3, pollAfterMs: 4000 } };
      },
    });
    transport.start();
    FakeWebSocket.last().drop();
    await vi.advanceTimersByTimeAsync(10);
    expect(polls).toBe(3);
    expect(transport.cursor).toBe(3);
  });

  it("sends commands over the socket and settles them by ref", async () => {
    const { transport } = setup();
    transport.start();
    const socket = FakeWebSocket.last();
    socket.open();
    const sent = transport.send({ type: "chat.send", text: "hi" });
    const refused = transport.send({ type: "chat.send", text: "again" });
    const [first, second] = socket.sent as { ref: string; text: string }[];
    expect(first?.text).toBe("hi");
    socket.receive({ type: "ack", ref: first!.ref, command: "chat.send", id: "x", seq: 4 });
    socket.receive({ type: "error", ref: second!.ref, code: "slow_mode", message: "slow mode", status: 429, retryAfterMs: 4000 });
    await expect(sent).resolves.toMatchObject({ id: "x", seq: 4 });
    const error = await refused.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 429, code: "slow_mode", retryAfterMs: 4000 });
  });

  it("sends over HTTP while polling, and polls at once to show the result", async () => {
    let polled = 0;
    const { transport, network } = setup({
      "GET /api/streams/s1/events": () => {
        polled += 1;
        return { body: { cursor: 1, events: [], more: false, pollAfterMs: 4000 } };
      },
      "POST /api/streams/s1/chat": () => ({ status: 201, body: { command: "chat.send", id: "m1", seq: 2 } }),
    });
    transport.start();
    FakeWebSocket.last().drop();
    await vi.advanceTimersByTimeAsync(0);
    await expect(transport.send({ type: "chat.send", text: "via http" })).resolves.toMatchObject({ id: "m1" });
    expect(network.calls.find((c) => c.method === "POST")?.body).toEqual({ text: "via http" });
    await vi.advanceTimersByTimeAsync(0);
    expect(polled).toBe(2);
  });

  it("fails commands in flight when the socket drops", async () => {
    const { transport } = setup({ "GET /api/streams/s1/events": () => ({ body: { cursor: 0, events: [], more: false, pollAfterMs: 4000 } }) });
    transport.start();
    FakeWebSocket.last().open();
    const sent = transport.send({ type: "chat.send", text: "lost" });
    FakeWebSocket.last().drop();
    await expect(sent).rejects.toThrow(/lost/);
    transport.stop();
    expect(transport.mode).toBe("closed");
  });

  it("starts over after a resync", () => {
    const { transport } = setup();
    transport.start();
    FakeWebSocket.last().open();
    FakeWebSocket.last().receive(hello(50), { type: "resync", reason: "cursor too old" }, hello(80));
    expect(transport.cursor).toBe(80);
  });
});

describe("httpCommand", () => {
  it("maps every command to its endpoint", () => {
    expect(httpCommand("s", { type: "moderation.ban", target: "u:3" })).toEqual({ method: "PUT", path: "/api/streams/s/moderation/bans/u%3A3" });
    expect(httpCommand("s", { type: "chat.pin", messageId: null })).toEqual({ method: "PUT", path: "/api/streams/s/chat-pin", body: { messageId: null } });
    expect(httpCommand("s", { type: "moderation.slow_mode", seconds: 5 }).path).toBe("/api/streams/s/slow-mode");
    expect(() => httpCommand("s", { type: "auth", token: "t" })).toThrow();
  });
});
