import { useSyncExternalStore } from "react";
import { LiveChat } from "../components/LiveChat";
import { StreamChannel } from "../lib/channel";
import type { ChatMessage, Hello, ServerMessage } from "../lib/messages";

export const viewerHello = (overrides: Partial<Hello["you"]> = {}): Hello => ({
  type: "hello",
  streamId: "s1",
  cursor: 0,
  viewers: 5,
  you: { id: "u:2", handle: "vic", role: "viewer", canChat: true, canModerate: false, ...overrides },
  stream: { state: "live", title: "Jam" },
  chat: { slowModeSec: 0, guestsMayChat: true, maxMessageLength: 500 },
  pollAfterMs: 4000,
});

export const chatMessage = (id: string, text: string, author: ChatMessage["author"] = { id: "u:3", handle: "ann", role: "viewer" }): ChatMessage => ({
  type: "chat.message",
  id,
  author,
  text,
  at: "2026-11-27T20:00:00.000Z",
});

/** A real StreamChannel (not started: commands go over HTTP to the fake fetch). */
export function channelWith(...messages: ServerMessage[]): StreamChannel {
  const channel = new StreamChannel("s1");
  for (const message of messages) channel.apply(message);
  return channel;
}

export function ChatHarness({ channel }: { channel: StreamChannel }) {
  const state = useSyncExternalStore(channel.subscribe, channel.getState);
  return <LiveChat channel={channel} state={state} />;
}
