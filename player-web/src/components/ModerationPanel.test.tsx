import { act, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { fakeFetch } from "../test/fakes";
import { channelWith } from "../test/harness";
import { ModerationPanel } from "./ModerationPanel";

afterEach(() => vi.unstubAllGlobals());

describe("ModerationPanel", () => {
  it("lists bans and the log, unbans, toggles slow mode and clears after confirming", async () => {
    let banned = [{ id: "u:9", handle: "troll" }];
    const { calls } = fakeFetch({
      "GET /api/streams/s1/moderation/bans": () => ({ body: { bans: banned } }),
      "GET /api/streams/s1/moderation/actions": () => ({ body: { actions: [{ action: "slow_mode", actorHandle: "moe", target: null, at: 0 }] } }),
      "DELETE /api/streams/s1/moderation/bans/u%3A9": () => {
        banned = [];
        return { body: { command: "moderation.unban" } };
      },
      "PUT /api/streams/s1/slow-mode": () => ({ body: { command: "moderation.slow_mode" } }),
      "POST /api/streams/s1/chat-clear": () => ({ body: { command: "chat.clear" } }),
    });
    render(<ModerationPanel streamId="s1" channel={channelWith()} slowModeSec={0} />);
    expect(await screen.findByText("troll")).toBeInTheDocument();
    expect(screen.getByRole("list", { name: "Moderation log" })).toHaveTextContent("moe slow mode");
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Unban" })));
    expect(await screen.findByText("Nobody is banned.")).toBeInTheDocument();
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Turn on slow mode (10 s)" })));
    expect(calls.find((c) => c.path.endsWith("/slow-mode"))?.body).toEqual({ seconds: 10 });
    fireEvent.click(screen.getByRole("button", { name: "Clear chat…" }));
    expect(calls.some((c) => c.path.endsWith("/chat-clear"))).toBe(false);
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Clear chat" })));
    expect(calls.some((c) => c.path.endsWith("/chat-clear"))).toBe(true);
  });
});
