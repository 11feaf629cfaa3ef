// The replay player with a scripted engine: what it is given (a VOD source), the seek bar
// over the whole recording, the clock, play/pause, and the poster before the first frame.
import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { EngineEvents, PlaybackEngine, PlaybackSource } from "../lib/playback/engine";
import { ReplayPlayer } from "./ReplayPlayer";

const script = vi.hoisted(() => ({ events: null as EngineEvents | null, sources: [] as PlaybackSource[] }));

vi.mock("../lib/playback/startEngine", () => ({
  preloadEngines: () => undefined,
  startEngine: async (_element: HTMLVideoElement, source: PlaybackSource, events: EngineEvents): Promise<PlaybackEngine> => {
    script.events = events;
    script.sources.push(source);
    return {
      kind: "hlsjs",
      setRendition: () => undefined,
      resume: () => undefined,
      liveSyncPosition: () => null,
      latency: () => null,
      currentRendition: () => "",
      destroy: () => undefined,
    };
  },
}));

let play: ReturnType<typeof vi.spyOn>;
beforeEach(() => {
  script.events = null;
  script.sources = [];
  vi.spyOn(HTMLMediaElement.prototype, "load").mockImplementation(() => undefined);
  play = vi.spyOn(HTMLMediaElement.prototype, "play").mockResolvedValue(undefined);
});
afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

/** jsdom plays nothing: set what a playing element would say, and tell the player. */
function media(video: HTMLVideoElement, state: { duration?: number; currentTime?: number; paused?: boolean }, event: string) {
  if (state.duration !== undefined) Object.defineProperty(video, "duration", { configurable: true, value: state.duration });
  if (state.paused !== undefined) Object.defineProperty(video, "paused", { configurable: true, value: state.paused });
  if (state.currentTime !== undefined) video.currentTime = state.currentTime;
  act(() => {
    video.dispatchEvent(new Event(event));
  });
}

async function mounted(props: Partial<Parameters<typeof ReplayPlayer>[0]> = {}) {
  render(<ReplayPlayer src="/vod/r1/index.m3u8" posterUrl="/vod/r1/poster.jpg" durationSec={8.2} {...props} />);
  await vi.waitFor(() => expect(script.events).not.toBeNull());
  return document.querySelector("video")!;
}

describe("ReplayPlayer", () => {
  it("plays the recording as VOD, with its poster until the first frame, and starts it once ready", async () => {
    const video = await mounted();
    expect(script.sources).toEqual([{ hlsUrl: "/vod/r1/index.m3u8", vod: true }]);
    expect(video).toHaveAttribute("poster", "/vod/r1/poster.jpg");
    expect(screen.getByTestId("replay-player")).toHaveAttribute("data-status", "loading");
    act(() => script.events!.onReady());
    expect(play).toHaveBeenCalled();
    Object.defineProperty(video, "videoWidth", { value: 640, configurable: true });
    media(video, { paused: false }, "playing");
    expect(screen.getByTestId("replay-player")).toHaveAttribute("data-status", "playing");
    expect(screen.queryByText("LIVE")).toBeNull();
  });

  it("has a seek bar over the whole recording, the server's length until the media's, and the clock", async () => {
    const video = await mounted();
    const bar = screen.getByRole("slider", { name: "Position in the recording" });
    expect(bar).toHaveAttribute("max", "8.2");
    expect(screen.getByLabelText("Time")).toHaveTextContent("0:00 / 0:08");
    media(video, { duration: 64.5, currentTime: 3 }, "durationchange");
    expect(bar).toHaveAttribute("max", "64.5");
    expect(screen.getByLabelText("Time")).toHaveTextContent("0:03 / 1:04");
    fireEvent.change(bar, { target: { value: "32" } });
    expect(video.currentTime).toBe(32);
    expect(screen.getByLabelText("Time")).toHaveTextContent("0:32 / 1:04");
    expect(screen.getByTestId("replay-player")).toHaveAttribute("data-duration", "64.5");
  });

  it("plays and pauses, and plays again from the start after the end", async () => {
    const video = await mounted();
    const pause = vi.spyOn(HTMLMediaElement.prototype, "pause").mockImplementation(() => undefined);
    media(video, { paused: false }, "play");
    fireEvent.click(screen.getByRole("button", { name: "Pause" }));
    expect(pause).toHaveBeenCalled();
    media(video, { paused: true }, "pause");
    play.mockClear();
    fireEvent.click(screen.getByRole("button", { name: "Play" }));
    expect(play).toHaveBeenCalledTimes(1);
    Object.defineProperty(video, "ended", { configurable: true, value: true });
    media(video, { duration: 8, currentTime: 8 }, "ended");
    expect(screen.getByTestId("replay-player")).not.toHaveAttribute("data-status", "ended");
    fireEvent.click(screen.getByRole("button", { name: "Play" }));
    expect(video.currentTime).toBe(0);
    expect(play).toHaveBeenCalledTimes(2);
  });

  it("says a recording still being made is, and shows the engine's failure with a retry", async () => {
    await mounted({ growing: true });
    expect(screen.getByText("Recording")).toBeInTheDocument();
    act(() => script.events!.onFailed("Playback stopped: the stream cannot be reached."));
    expect(screen.getByRole("alert")).toHaveTextContent("the stream cannot be reached");
    fireEvent.click(screen.getByRole("button", { name: "Retry" }));
    await vi.waitFor(() => expect(script.sources).toHaveLength(2));
  });
});
