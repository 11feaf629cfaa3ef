import { describe, expect, it, vi } from "vitest";
import { initialState, MAX_MESSAGES, reduce, StreamChannel, type ChannelState } from "./channel";
import type { ChatMessage, Hello, ServerMessage } from "./messages";

const msg = (id: string, extra: Partial<ChatMessage> = {}): ChatMessage => ({
  type: "chat.message",
  id,
  author: { id: "u:2", handle: "vic", role: "viewer" },
  text: id,
  at: "",
  ...extra,
});
const apply = (...messages: ServerMessage[]): ChannelState => messages.reduce(reduce, initialState);
const by = { id: "u:1", handle: "carla" };
const at = "2026-01-01T00:00:00Z";
const hello: Hello = {
  type: "hello",
  streamId: "s1",
  cursor: 0,
  viewers: 3,
  you: { id: "u:2", handle: "vic", role: "viewer", canChat: true, canModerate: false },
  stream: { state: "live", title: "t" },
  chat: { slowModeSec: 5, guestsMayChat: false, maxMessageLength: 300 },
  pollAfterMs: 4000,
};

describe("reduce", () => {
  it("takes who you are and the chat settings from hello", () => {
    const state = apply(hello);
    expect(state.you?.handle).toBe("vic");
    expect(state).toMatchObject({ viewers: 3, slowModeSec: 5, guestsMayChat: false, maxMessageLength: 300, streamState: "live" });
  });

  it("builds the chat from history and live messages, without duplicates", () => {
    const state = apply(
      { type: "chat.history", messages: [msg("a"), msg("b")], pinned: msg("a") },
      msg("b"),
      msg("c"),
    );
    expect(state.messages.map((m) => m.id)).toEqual(["a", "b", "c"]);
    expect(state.pinned?.id).toBe("a");
  });

  it("applies deletions, pins and clears", () => {
    let state = apply({ type: "chat.history", messages: [msg("a"), msg("b")], pinned: msg("a") });
    state = reduce(state, { type: "chat.deleted", id: "a", by, at });
    expect(state.messages.map((m) => m.id)).toEqual(["b"]);
    expect(state.pinned).toBeNull();
    state = reduce(state, { type: "chat.pinned", message: msg("b"), by, at });
    expect(state.pinned?.id).toBe("b");
    state = reduce(state, { type: "chat.cleared", by, at });
    expect(state.messages).toEqual([]);
  });

  it("keeps the last messages only", () => {
    const many = Array.from({ length: MAX_MESSAGES + 10 }, (_, n) => msg(`m${n}`));
    expect(apply(...many).messages).toHaveLength(MAX_MESSAGES);
  });

  it("follows viewers, health, status, settings and slow mode", () => {
    const state = apply(
      { type: "viewers", count: 12, at },
      { type: "health", at: "2026-01-01T00:00:00Z", bitrateKbps: 2500, fps: 30, dropRate: 0, viewers: 14 },
      { type: "stream.status", state: "ended", at },
      { type: "stream.settings", dvrWindowSec: 600, ageRestricted: true, slowModeSec: 10, guestsMayChat: true, at },
      { type: "moderation.slow_mode", seconds: 0, by, at },
    );
    expect(state).toMatchObject({ viewers: 14, streamState: "ended", dvrWindowSec: 600, ageRestricted: true, slowModeSec: 0 });
    expect(state.health?.bitrateKbps).toBe(2500);
    expect(state.health?.recording).toBeNull();
    const recording = { recordingId: "r1", state: "recording" as const, durationSec: 5, sizeBytes: 10, skippedSegments: 0, warning: null };
    const recorded = reduce(state, { type: "health", at: "2026-01-01T00:00:05Z", bitrateKbps: 2500, fps: 30, dropRate: 0, viewers: 14, recording });
    expect(recorded.health?.recording).toEqual(recording);
    expect(recorded.health?.quality).toBeNull();
    const quality = { sessions: 3, renditions: { "720p": 2, source: 1 }, stalls: 1, viewingSec: 120, stallsPerViewerMinute: 0.5, bufferSec: 2.1, throughputKbps: 9000 };
    const rated = reduce(recorded, { type: "health", at: "2026-01-01T00:00:10Z", bitrateKbps: 2500, fps: 30, dropRate: 0, viewers: 14, quality });
    expect(rated.health?.quality).toEqual(quality);
  });

  it("notices when you are timed out, banned or unbanned, and ignores others", () => {
    let state = apply(hello);
    state = reduce(state, { type: "moderation.ban", target: { id: "u:9", handle: "x" }, by, at });
    expect(state.banned).toBe(false);
    state = reduce(state, { type: "moderation.timeout", target: { id: "u:2", handle: "vic" }, seconds: 600, until: "2030-01-01T00:00:00Z", by, at });
    expect(state.mutedUntil).toBe(Date.parse("2030-01-01T00:00:00Z"));
    state = reduce(state, { type: "moderation.ban", target: { id: "u:2", handle: "vic" }, by, at });
    expect(state.banned).toBe(true);
    state = reduce(state, { type: "moderation.unban", target: { id: "u:2", handle: "vic" }, by, at });
    expect(state.banned).toBe(false);
  });
});

describe("StreamChannel", () => {
  it("hands tips to their listeners and state changes to subscribers", () => {
    const channel = new StreamChannel("s1");
    const tips = vi.fn();
    const changed = vi.fn();
    channel.tips.subscribe(tips);
    const unsubscribe = channel.subscribe(changed);
    channel.apply({ type: "tip", id: 1, amountMinor: 100, currency: "EUR", from: "a", message: "", at: "" });
    channel.apply({ type: "viewers", count: 2, at });
    expect(tips).toHaveBeenCalledTimes(1);
    expect(changed).toHaveBeenCalledTimes(1);
    unsubscribe();
    channel.apply({ type: "viewers", count: 3, at });
    expect(changed).toHaveBeenCalledTimes(1);
    expect(channel.getState().viewers).toBe(3);
  });
});
