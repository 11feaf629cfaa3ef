import { fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { hasAgeConsent } from "../lib/ageGate";
import { WatchPage } from "../pages/WatchPage";
import { asWebSocket, FakeWebSocket, fakeFetch } from "../test/fakes";
import { AgeRequirementCard } from "./AgeRequirementCard";

afterEach(() => {
  vi.unstubAllGlobals();
  FakeWebSocket.reset();
});

const restricted = {
  id: "ab12", title: "Late show", posterUrl: "", state: "live", creator: { handle: "carla", displayName: "Carla" },
  viewers: 1, startAt: null, endedAt: null, ageRestricted: true, dvrWindowSec: 120, slowModeSec: 0, guestsMayChat: true,
  createdAt: "", updatedAt: "", hlsUrl: "http://localhost/hls/ab12/index.m3u8", playerUrl: "",
};

describe("AgeRequirementCard", () => {
  it("records consent and lets the viewer in, or out", () => {
    const onConsent = vi.fn();
    const onLeave = vi.fn();
    render(<AgeRequirementCard title="Late show" onConsent={onConsent} onLeave={onLeave} />);
    expect(screen.getByRole("heading", { name: "Age-restricted stream" })).toBeInTheDocument();
    fireEvent.click(screen.getByRole("button", { name: "Leave" }));
    expect(onLeave).toHaveBeenCalled();
    expect(hasAgeConsent(30)).toBe(false);
    fireEvent.click(screen.getByRole("button", { name: "I am 18 or older" }));
    expect(onConsent).toHaveBeenCalled();
    expect(hasAgeConsent(30)).toBe(true);
  });

  it("keeps everything of the stream unloaded until consent", async () => {
    vi.stubGlobal("WebSocket", asWebSocket);
    const { calls } = fakeFetch({ "GET /api/streams/ab12": () => ({ body: restricted }) });
    render(<WatchPage streamId="ab12" />);
    expect(await screen.findByText("Late show")).toBeInTheDocument();
    expect(screen.queryByTestId("live-player")).toBeNull();
    expect(document.querySelector("video")).toBeNull();
    expect(FakeWebSocket.instances).toHaveLength(0);
    expect(calls.map((c) => c.path)).toEqual(["/api/streams/ab12"]);
    fireEvent.click(screen.getByRole("button", { name: "I am 18 or older" }));
    expect(await screen.findByTestId("live-player")).toBeInTheDocument();
    expect(FakeWebSocket.instances).toHaveLength(1);
  });

  it("does not ask again within the TTL", async () => {
    localStorage.setItem("mediad.ageConsent", String(Date.now() - 86_400_000));
    vi.stubGlobal("WebSocket", asWebSocket);
    fakeFetch({ "GET /api/streams/ab12": () => ({ body: restricted }) });
    render(<WatchPage streamId="ab12" />);
    expect(await screen.findByTestId("live-player")).toBeInTheDocument();
  });
});
