// The player through a stream's changes, with a scripted engine (what it tells the player
// and what it is asked): "reconnecting" keeps the picture under a notice, the audio view
// of a stream without a picture, a quality menu that follows the renditions.
import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { EngineEvents, EngineKind, PlaybackEngine, Rendition } from "../lib/playback/engine";
import { LivePlayer } from "./LivePlayer";

const script = vi.hoisted(() => ({
  events: null as EngineEvents | null,
  kind: "hlsjs" as EngineKind,
  passedOver: [] as readonly EngineKind[],
  starts: 0,
  asked: [] as string[],
}));

vi.mock("../lib/playback/startEngine", () => ({
  preloadEngines: () => undefined,
  startEngine: async (
    _element: HTMLVideoElement,
    _source: unknown,
    events: EngineEvents,
    _signal: AbortSignal,
    _mode: unknown,
    passedOver: readonly EngineKind[] = [],
  ): Promise<PlaybackEngine> => {
    script.events = events;
    script.passedOver = passedOver;
    script.starts += 1;
    return {
      kind: script.kind,
      setRendition: (id) => script.asked.push(`rendition ${id}`),
      resume: () => script.asked.push("resume"),
      liveSyncPosition: () => null,
      latency: () => null,
      currentRendition: () => "",
      destroy: () => script.asked.push("destroy"),
    };
  },
}));

beforeEach(() => {
  script.events = null;
  script.kind = "hlsjs";
  script.starts = 0;
  script.asked = [];
  vi.spyOn(HTMLMediaElement.prototype, "load").mockImplementation(() => undefined);
  vi.spyOn(HTMLMediaElement.prototype, "play").mockResolvedValue(undefined);
});
afterEach(() => {
  cleanup(); // unmounting clears the element, whose load() is stubbed until now
  vi.restoreAllMocks();
});

const rendition = (id: string, label: string, audioOnly = false): Rendition => ({ id, label, audioOnly });

async function mounted(props: Partial<Parameters<typeof LivePlayer>[0]> = {}) {
  const view = render(<LivePlayer src="/hls/ab12/index.m3u8" streamId="ab12" report={false} {...props} />);
  await vi.waitFor(() => expect(script.events).not.toBeNull());
  const video = document.querySelector("video")!;
  const showFrame = (width = 1280) => {
    Object.defineProperty(video, "videoWidth", { value: width, configurable: true });
    act(() => {
      video.dispatchEvent(new Event("playing"));
    });
  };
  const rerender = (more: Partial<Parameters<typeof LivePlayer>[0]>) =>
    view.rerender(<LivePlayer src="/hls/ab12/index.m3u8" streamId="ab12" report={false} {...props} {...more} />);
  return { video, showFrame, rerender };
}

describe("LivePlayer while the publisher reconnects", () => {
  it("keeps the last picture under a Reconnecting… notice, never says the stream ended", async () => {
    const { video, showFrame, rerender } = await mounted({ streamState: "live" });
    showFrame();
    expect(screen.getByTestId("live-player")).toHaveAttribute("data-status", "playing");
    rerender({ streamState: "reconnecting" });
    expect(screen.getByRole("status")).toHaveTextContent("Reconnecting…");
    expect(document.querySelector("video")).toBe(video); // the same element: its picture stays
    act(() => {
      video.dispatchEvent(new Event("ended")); // the engine played out what it had
    });
    expect(screen.queryByText("The stream has ended.")).toBeNull();
    expect(screen.getByTestId("reconnecting")).toBeInTheDocument();
    rerender({ streamState: "live" });
    expect(screen.queryByTestId("reconnecting")).toBeNull();
    // Playback had stopped meanwhile: it starts over, at once.
    await vi.waitFor(() => expect(script.starts).toBe(2));
  });

  it("asks a playing engine to load again as soon as the stream is live again", async () => {
    const { showFrame, rerender } = await mounted({ streamState: "live" });
    showFrame();
    rerender({ streamState: "reconnecting" });
    rerender({ streamState: "live" });
    expect(script.asked).toEqual(["resume"]);
    expect(script.starts).toBe(1);
  });

  it("shows no error over a reconnect", async () => {
    const { rerender } = await mounted({ streamState: "reconnecting" });
    act(() => script.events!.onFailed("Playback stopped: the stream cannot be reached."));
    expect(screen.queryByRole("alert")).toBeNull();
    expect(screen.getByTestId("reconnecting")).toBeInTheDocument();
    rerender({ streamState: "live" });
    await vi.waitFor(() => expect(script.starts).toBe(2)); // it tries again by itself
  });
});

describe("LivePlayer's engine", () => {
  it("says which path plays the stream, and none once playback has failed", async () => {
    script.kind = "native";
    await mounted();
    const player = screen.getByTestId("live-player");
    await vi.waitFor(() => expect(player).toHaveAttribute("data-engine", "native"));
    act(() => script.events!.onFailed("Playback stopped: the stream cannot be reached."));
    expect(player).not.toHaveAttribute("data-engine");
  });

  it("starts the next engine when one hands the stream over, and shows no error", async () => {
    await mounted();
    const player = screen.getByTestId("live-player");
    await vi.waitFor(() => expect(player).toHaveAttribute("data-engine", "hlsjs"));
    script.kind = "native";
    act(() => script.events!.onHandOver("hlsjs")); // its MSE plays none of the stream's codecs
    await vi.waitFor(() => expect(script.starts).toBe(2));
    expect(script.passedOver).toEqual(["hlsjs"]);
    await vi.waitFor(() => expect(player).toHaveAttribute("data-engine", "native"));
    expect(screen.queryByRole("alert")).toBeNull();
  });
});

describe("LivePlayer on a stream without a picture", () => {
  it("shows the audio view (poster, title) with the controls, not Loading…", async () => {
    const { showFrame } = await mounted({ title: "Night radio", posterUrl: "/posters/radio.png" });
    act(() => script.events!.onRenditions([rendition("/hls/ab12/audio/index.m3u8", "Audio only", true)]));
    const view = screen.getByTestId("audio-view");
    expect(view).toHaveTextContent("Night radio");
    expect(view.querySelector("img")).toHaveAttribute("src", "/posters/radio.png");
    showFrame(0); // sound, no picture: it plays
    expect(screen.getByTestId("live-player")).toHaveAttribute("data-status", "playing");
    expect(screen.queryByText("Loading…")).toBeNull();
    expect(screen.getByRole("button", { name: "Unmute" })).toBeInTheDocument();
  });

  it("knows it from the first sound when the engine offers no renditions (Safari)", async () => {
    const { showFrame } = await mounted({ title: "Podcast" });
    expect(screen.queryByTestId("audio-view")).toBeNull();
    showFrame(0);
    expect(screen.getByTestId("audio-view")).toHaveTextContent("Podcast");
  });

  it("shows video streams as video", async () => {
    const { showFrame } = await mounted({ title: "Show" });
    act(() => script.events!.onRenditions([rendition("/s/source/index.m3u8", "720p (source)"), rendition("/s/360p/index.m3u8", "360p")]));
    showFrame();
    expect(screen.queryByTestId("audio-view")).toBeNull();
  });
});

describe("LivePlayer's quality menu", () => {
  it("names each rendition, follows the set as it changes, and falls back to Auto", async () => {
    await mounted();
    act(() =>
      script.events!.onRenditions([
        rendition("/s/source/index.m3u8", "1080p60 (source)"),
        rendition("/s/720p/index.m3u8", "720p"),
        rendition("/s/480p/index.m3u8", "480p"),
      ]),
    );
    const menu = screen.getByRole("combobox", { name: "Quality" });
    const labels = () => Array.from((menu as HTMLSelectElement).options).map((option) => option.text);
    expect(labels()).toEqual(["Auto", "1080p60 (source)", "720p", "480p"]);
    fireEvent.change(menu, { target: { value: "/s/720p/index.m3u8" } });
    expect(script.asked).toContain("rendition /s/720p/index.m3u8");
    expect(menu).toHaveValue("/s/720p/index.m3u8");
    // A smaller backup took over: 720p is gone, 360p came.
    act(() => script.events!.onRenditions([rendition("/s/source/index.m3u8", "480p (source)"), rendition("/s/360p/index.m3u8", "360p")]));
    expect(labels()).toEqual(["Auto", "480p (source)", "360p"]);
    expect(menu).toHaveValue("auto");
    fireEvent.change(menu, { target: { value: "auto" } });
    expect(script.asked.at(-1)).toBe("rendition null");
  });
});
