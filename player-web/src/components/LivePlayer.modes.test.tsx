import { act, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ANSWERED, FakePeerConnection, fakeWhepServer, installWebrtc } from "../test/webrtcFakes";
import { LivePlayer } from "./LivePlayer";

// Real-time runs the real WebRTC engine against a fake RTCPeerConnection and a scripted WHEP
// server; LL-HLS runs the browser's own HLS (jsdom has no MSE, so hls.js steps aside).
let play: ReturnType<typeof vi.spyOn>;
beforeEach(() => {
  installWebrtc();
  vi.spyOn(HTMLMediaElement.prototype, "canPlayType").mockReturnValue("maybe");
  vi.spyOn(HTMLMediaElement.prototype, "load").mockImplementation(() => undefined);
  play = vi.spyOn(HTMLMediaElement.prototype, "play").mockResolvedValue(undefined);
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

const HLS = "/hls/s1/index.m3u8";
const video = () => document.querySelector("video")!;
const badge = () => screen.getByTestId("engine-badge");

async function negotiate(pc: FakePeerConnection) {
  await vi.waitFor(() => expect(pc.localDescription).not.toBeNull());
  await act(async () => pc.finishGathering());
  await vi.waitFor(() => expect(pc.remoteDescription).not.toBeNull());
}

describe("LivePlayer modes", () => {
  it("starts in Real-time where the creator made it the default, and switches to LL-HLS on request", async () => {
    const { calls } = fakeWhepServer(ANSWERED);
    render(<LivePlayer src={HLS} whepSrc="/whep/s1" realtimeDefault streamId="s1" report={false} />);
    expect(badge()).toHaveTextContent("Real-time");
    expect(screen.getByRole("button", { name: "Real-time" })).toHaveAttribute("aria-pressed", "true");
    expect(screen.getByTestId("live-player")).toHaveAttribute("data-playback-mode", "realtime");
    const pc = FakePeerConnection.last();
    await negotiate(pc);
    act(() => void pc.receiveTrack("video"));
    expect(play).toHaveBeenCalled();
    expect(video().hasAttribute("src")).toBe(false);

    fireEvent.click(screen.getByRole("button", { name: "LL-HLS" }));
    expect(badge()).toHaveTextContent("LL-HLS");
    expect(calls.map((call) => call.method)).toEqual(["POST", "DELETE"]);
    await vi.waitFor(() => expect(pc.closed).toBe(true)); // once the DELETE is answered
    await vi.waitFor(() => expect(video().getAttribute("src")).toBe(HLS));
    expect(screen.queryByTestId("playback-fallback")).toBeNull();
  });

  it("falls back to LL-HLS when real-time fails, says why, and lets the viewer try again", async () => {
    fakeWhepServer({ status: 404, body: JSON.stringify({ error: "stream is not live" }) }, ANSWERED);
    render(<LivePlayer src={HLS} whepSrc="/whep/s1" realtimeDefault streamId="s1" report={false} />);
    await act(async () => {
      await vi.waitFor(() => expect(FakePeerConnection.last().localDescription).not.toBeNull());
      FakePeerConnection.last().finishGathering();
    });
    expect(await screen.findByTestId("playback-fallback")).toHaveTextContent(
      "Real-time playback stopped: The stream is not live. (stream is not live). Playing LL-HLS instead.",
    );
    expect(badge()).toHaveTextContent("LL-HLS");
    expect(screen.getByTestId("live-player")).not.toHaveAttribute("data-status", "error");
    await vi.waitFor(() => expect(video().getAttribute("src")).toBe(HLS));

    const failed = FakePeerConnection.last();
    fireEvent.click(screen.getByRole("button", { name: "Real-time" }));
    expect(screen.queryByTestId("playback-fallback")).toBeNull();
    expect(badge()).toHaveTextContent("Real-time");
    expect(FakePeerConnection.last()).not.toBe(failed);
    expect(video().hasAttribute("src")).toBe(false);
  });

  it("falls back when the connection fails after playing", async () => {
    fakeWhepServer(ANSWERED);
    render(<LivePlayer src={HLS} whepSrc="/whep/s1" realtimeDefault streamId="s1" report={false} />);
    const pc = FakePeerConnection.last();
    await negotiate(pc);
    act(() => pc.changeState("failed"));
    expect(screen.getByTestId("playback-fallback")).toHaveTextContent("The real-time connection failed.");
    expect(badge()).toHaveTextContent("LL-HLS");
  });

  it("starts in LL-HLS unless the creator chose Real-time, and offers Real-time only where it can play", async () => {
    fakeWhepServer(ANSWERED);
    const { rerender, unmount } = render(<LivePlayer src={HLS} whepSrc="/whep/s1" streamId="s1" report={false} />);
    expect(badge()).toHaveTextContent("LL-HLS");
    expect(screen.getByRole("group", { name: "Playback mode" })).toBeInTheDocument();
    expect(FakePeerConnection.instances).toHaveLength(0);
    await vi.waitFor(() => expect(video().getAttribute("src")).toBe(HLS));
    fireEvent.click(screen.getByRole("button", { name: "Real-time" }));
    expect(FakePeerConnection.instances).toHaveLength(1);

    rerender(<LivePlayer src={HLS} realtimeDefault streamId="s1" report={false} />); // the server offers no WHEP
    expect(badge()).toHaveTextContent("LL-HLS");
    expect(screen.queryByRole("group", { name: "Playback mode" })).toBeNull();
    await vi.waitFor(() => expect(video().getAttribute("src")).toBe(HLS));
    unmount();

    vi.stubGlobal("RTCPeerConnection", undefined); // a browser without WebRTC
    render(<LivePlayer src={HLS} whepSrc="/whep/s1" realtimeDefault streamId="s1" report={false} />);
    expect(badge()).toHaveTextContent("LL-HLS");
    expect(screen.queryByRole("group", { name: "Playback mode" })).toBeNull();
    await vi.waitFor(() => expect(video().getAttribute("src")).toBe(HLS));
  });

  it("measures join time and latency in Real-time too", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval"] });
    fakeWhepServer(ANSWERED);
    const onFirstFrame = vi.fn();
    render(<LivePlayer src={HLS} whepSrc="/whep/s1" realtimeDefault streamId="s1" report={false} onFirstFrame={onFirstFrame} />);
    const pc = FakePeerConnection.last();
    await negotiate(pc);
    act(() => void pc.receiveTrack("video"));
    Object.defineProperty(video(), "videoWidth", { value: 1280 });
    act(() => void video().dispatchEvent(new Event("playing"))); // jsdom has no frame callbacks
    expect(onFirstFrame).toHaveBeenCalledTimes(1);
    expect(screen.getByTestId("live-player")).toHaveAttribute("data-status", "playing");
    pc.stats = [
      { id: "IV", type: "inbound-rtp", kind: "video", jitterBufferDelay: 2.5, jitterBufferEmittedCount: 50, framesDecoded: 50, frameHeight: 720 },
      { id: "P", type: "candidate-pair", nominated: true, state: "succeeded", currentRoundTripTime: 0.04 },
    ];
    await act(async () => {
      await vi.advanceTimersByTimeAsync(2100);
    });
    expect(screen.getByTestId("live-player")).toHaveAttribute("data-latency-s", "0.07");
    expect(screen.getByTestId("latency")).toHaveTextContent("≈0.07 s network + buffer");
  });
});
