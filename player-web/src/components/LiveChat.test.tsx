import { act, fireEvent, render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { fakeFetch } from "../test/fakes";
import { channelWith, chatMessage, ChatHarness, viewerHello } from "../test/harness";

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

function type(text: string) {
  fireEvent.change(screen.getByLabelText("Message"), { target: { value: text } });
  fireEvent.submit(screen.getByLabelText("Message").closest("form")!);
}

describe("LiveChat", () => {
  it("shows history, the pinned message and the viewer count, as text only", () => {
    const hostile = "<img src=x onerror=alert(1)><b>bold</b>";
    const channel = channelWith(viewerHello(), {
      type: "chat.history",
      messages: [chatMessage("a", hostile), chatMessage("b", "hello")],
      pinned: chatMessage("b", "hello"),
    });
    const { container } = render(<ChatHarness channel={channel} />);
    expect(screen.getByText(hostile)).toBeInTheDocument();
    expect(container.querySelector(".messages img, .messages b")).toBeNull();
    expect(within(screen.getByTestId("pinned")).getByText("hello")).toBeInTheDocument();
    expect(screen.getByTestId("viewer-count")).toHaveTextContent("5 watching");
  });

  it("adds live messages as they arrive", () => {
    const channel = channelWith(viewerHello(), { type: "chat.history", messages: [], pinned: null });
    render(<ChatHarness channel={channel} />);
    act(() => channel.apply(chatMessage("c", "just in")));
    expect(screen.getByText("just in")).toBeInTheDocument();
  });

  it("sends a message and counts down slow mode before the next", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const { calls } = fakeFetch({ "POST /api/streams/s1/chat": () => ({ status: 201, body: { id: "m1", seq: 1 } }) });
    const hello = viewerHello();
    (hello.chat as { slowModeSec: number }).slowModeSec = 10;
    render(<ChatHarness channel={channelWith(hello)} />);
    await act(async () => type("first!"));
    expect(calls.find((c) => c.method === "POST")?.body).toEqual({ text: "first!" });
    expect(screen.getByLabelText("Message")).toBeDisabled();
    expect(screen.getByLabelText("Message")).toHaveAttribute("placeholder", "Slow mode: wait 10 s.");
    await act(async () => vi.advanceTimersByTime(10_500));
    expect(screen.getByLabelText("Message")).toBeEnabled();
  });

  it("shows the server's refusal and waits as long as it says", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    fakeFetch({
      "POST /api/streams/s1/chat": () => ({ status: 429, body: { error: "slow mode: one message every 30 s", code: "slow_mode", retryAfterMs: 30000 } }),
    });
    render(<ChatHarness channel={channelWith(viewerHello())} />);
    await act(async () => type("too soon"));
    expect(screen.getByRole("alert")).toHaveTextContent("slow mode: one message every 30 s");
    expect(screen.getByRole("button", { name: /30s/ })).toBeDisabled();
  });

  it("tells a guest to sign in where guests may not chat, and a banned viewer why", () => {
    const guest = viewerHello({ id: "g:1", handle: "guest-1", role: "guest", canChat: false });
    (guest.chat as { guestsMayChat: boolean }).guestsMayChat = false;
    const { unmount } = render(<ChatHarness channel={channelWith(guest)} />);
    expect(screen.getByLabelText("Message")).toHaveAttribute("placeholder", "Sign in to chat in this stream.");
    unmount();
    render(<ChatHarness channel={channelWith(viewerHello(), { type: "moderation.ban", target: { id: "u:2", handle: "vic" }, by: { id: "u:1", handle: "carla" }, at: "" })} />);
    expect(screen.getByLabelText("Message")).toHaveAttribute("placeholder", "You are banned from this chat.");
  });

  it("offers moderators inline actions, destructive ones after a confirmation", async () => {
    const { calls } = fakeFetch({ "PUT /api/streams/s1/moderation/bans/u%3A3": () => ({ body: { command: "moderation.ban", seq: 3 } }) });
    const channel = channelWith(viewerHello({ role: "moderator", canModerate: true }), {
      type: "chat.history",
      messages: [chatMessage("a", "spam spam")],
      pinned: null,
    });
    render(<ChatHarness channel={channel} />);
    fireEvent.click(screen.getByRole("button", { name: "Ban" }));
    expect(screen.getByRole("alertdialog")).toHaveTextContent("Ban ann from this chat?");
    expect(calls).toHaveLength(0);
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Yes" })));
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual(["PUT /api/streams/s1/moderation/bans/u%3A3"]);
  });

  it("shows no moderation to viewers", () => {
    const channel = channelWith(viewerHello(), { type: "chat.history", messages: [chatMessage("a", "hi")], pinned: null });
    render(<ChatHarness channel={channel} />);
    expect(screen.queryByRole("button", { name: "Ban" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Delete" })).toBeNull();
  });
});
