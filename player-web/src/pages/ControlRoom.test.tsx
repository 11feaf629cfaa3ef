import { act, fireEvent, render, screen, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SESSION_HINT_COOKIE } from "../lib/api";
import { asWebSocket, FakeWebSocket, fakeFetch } from "../test/fakes";
import { recording } from "../test/recordings";
import { ControlRoom } from "./ControlRoom";

const stream = {
  id: "s1", title: "Jam", posterUrl: "", state: "live", creator: { handle: "carla", displayName: "Carla" }, viewers: 0,
  startAt: null, endedAt: null, ageRestricted: false, dvrWindowSec: 120, slowModeSec: 0, guestsMayChat: true,
  createdAt: "", updatedAt: "", hlsUrl: "http://localhost/hls/s1/index.m3u8", playerUrl: "",
};

beforeEach(() => {
  vi.stubGlobal("WebSocket", asWebSocket);
  vi.spyOn(HTMLMediaElement.prototype, "load").mockImplementation(() => undefined);
});
afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
  FakeWebSocket.reset();
  document.cookie = `${SESSION_HINT_COOKIE}=; max-age=0; path=/`;
});

describe("ControlRoom", () => {
  it("asks for a sign-in, then shows the stream's panels", async () => {
    let signedIn = false;
    const { calls } = fakeFetch({
      "GET /api/me": () => (signedIn ? { body: { user: { handle: "carla" }, streams: [stream], moderates: [] } } : { status: 401, body: { error: "sign in first" } }),
      "POST /api/auth/refresh": () => ({ status: 401, body: { error: "no refresh token" } }),
      "POST /api/auth/login": () => {
        signedIn = true;
        document.cookie = `${SESSION_HINT_COOKIE}=1; path=/`; // what the server's reply sets
        return { body: { user: { handle: "carla" } } };
      },
      "GET /api/streams/s1": () => ({ body: stream }),
      "GET /api/streams/s1/keys": () => ({ body: { keys: [], rtmpServer: "rtmp://h/live", srtServer: "srt://h:9000", srtPassphrase: "", srtEncrypted: false } }),
      "GET /api/streams/s1/settings": () => ({ body: { dvrWindowSec: 120, ageRestricted: false, watermark: false, slowModeSec: 0, guestsMayChat: true, blockedWords: [] } }),
      "GET /api/streams/s1/health": () => ({ body: { samples: [], intervalSec: 5 } }),
      "GET /api/streams/s1/moderation/bans": () => ({ body: { bans: [] } }),
      "GET /api/streams/s1/moderation/actions": () => ({ body: { actions: [] } }),
      "GET /api/streams/s1/recordings": () => ({ body: { recordings: [recording()] } }),
      "GET /api/streams/s1/clips": () => ({ body: { clips: [] } }),
    });
    render(<ControlRoom streamId={null} />);
    fireEvent.change(await screen.findByLabelText("Handle"), { target: { value: "carla" } });
    // Nobody signed in: nothing was asked before the sign-in (no 401s in the console).
    expect(calls.filter((c) => c.path === "/api/me" || c.path.startsWith("/api/auth/refresh"))).toEqual([]);
    fireEvent.change(screen.getByLabelText("Password"), { target: { value: "pw" } });
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Sign in" })));
    expect(await screen.findByRole("heading", { name: "Control room" })).toBeInTheDocument();
    for (const title of [/Status/, "Stream health", "Stream keys", "Moderation", "Settings", "Past broadcasts", "Clips"]) {
      expect(await screen.findByRole("heading", { name: title })).toBeInTheDocument();
    }
    // The creator's own recordings, each deletable; an empty list says so.
    expect(within(screen.getByRole("list", { name: "Past broadcasts" })).getByRole("button", { name: "Delete" })).toBeInTheDocument();
    expect(screen.getByText("No clips yet.")).toBeInTheDocument();
    FakeWebSocket.last().open();
    act(() =>
      FakeWebSocket.last().receive({ type: "health", at: new Date().toISOString(), bitrateKbps: 3100, fps: 30, dropRate: 0, viewers: 2 }),
    );
    expect(await screen.findByText("3100 kbit/s")).toBeInTheDocument();
  });
});
