import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { EngineEvents, PlaybackEngine, PlaybackSource } from "../lib/playback/engine";
import { fakeFetch } from "../test/fakes";
import { clip, recording } from "../test/recordings";
import { streamDetail } from "../test/streams";
import { ReplayPage } from "./ReplayPage";

const started = vi.hoisted(() => ({ sources: [] as PlaybackSource[] }));

vi.mock("../lib/playback/startEngine", () => ({
  preloadEngines: () => undefined,
  startEngine: async (_element: HTMLVideoElement, source: PlaybackSource, _events: EngineEvents): Promise<PlaybackEngine> => {
    started.sources.push(source);
    return { kind: "hlsjs", setRendition: () => undefined, resume: () => undefined, liveSyncPosition: () => null, latency: () => null, currentRendition: () => "", destroy: () => undefined };
  },
}));

beforeEach(() => {
  started.sources = [];
  vi.spyOn(HTMLMediaElement.prototype, "load").mockImplementation(() => undefined);
  vi.spyOn(HTMLMediaElement.prototype, "play").mockResolvedValue(undefined);
});
afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

describe("ReplayPage", () => {
  it("plays the recording with its poster, and shows its title, stream, date and download link", async () => {
    fakeFetch({
      "GET /api/recordings/r1": () => ({ body: recording() }),
      "GET /api/streams/s1": () => ({ body: streamDetail() }),
    });
    render(<ReplayPage recordingId="r1" />);
    expect(await screen.findByRole("heading", { name: "Friday jam", level: 1 })).toBeInTheDocument();
    await vi.waitFor(() => expect(started.sources).toEqual([{ hlsUrl: "/vod/r1/index.m3u8", vod: true }]));
    expect(document.querySelector("video")).toHaveAttribute("poster", "/vod/r1/poster.jpg");
    expect(screen.getByText("REPLAY")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Jam nights" })).toHaveAttribute("href", "/watch/s1");
    expect(screen.getByText(/Carla/)).toBeInTheDocument();
    expect(document.querySelector("time")).toHaveAttribute("dateTime", "2026-11-27T20:00:00.000Z");
    expect(screen.getByRole("link", { name: "Download MP4" })).toHaveAttribute("href", "/vod/r1/download.mp4");
    expect(screen.getByRole("slider", { name: "Position in the recording" })).toHaveAttribute("max", "3725");
    expect(screen.queryByText("Recording")).toBeNull();
  });

  it("shows a clip and who cut it, and a recording still being made as such", async () => {
    fakeFetch({
      "GET /api/recordings/c1": () => ({ body: clip({ state: "recording" }) }),
      "GET /api/streams/s1": () => ({ status: 404, body: { error: "no such stream" } }),
    });
    render(<ReplayPage recordingId="c1" />);
    expect(await screen.findByRole("heading", { name: "the goal" })).toBeInTheDocument();
    expect(screen.getByText("CLIP")).toBeInTheDocument();
    expect(screen.getByText(/clipped by vic/)).toBeInTheDocument();
    expect(screen.getByText("Recording")).toBeInTheDocument();
  });

  it("says when a recording was cut short", async () => {
    fakeFetch({
      "GET /api/recordings/r1": () => ({ body: recording({ interrupted: true }) }),
      "GET /api/streams/s1": () => ({ body: streamDetail() }),
    });
    render(<ReplayPage recordingId="r1" />);
    expect(await screen.findByText("Interrupted: ends at the last complete segment")).toBeInTheDocument();
  });

  it("says when the replay does not exist or is private, and retries other failures", async () => {
    let answer = { status: 404, body: { error: "no such recording" } };
    fakeFetch({ "GET /api/recordings/r9": () => answer, "GET /api/streams/s1": () => ({ body: streamDetail() }) });
    const { unmount } = render(<ReplayPage recordingId="r9" />);
    expect(await screen.findByRole("alert")).toHaveTextContent("This replay does not exist");
    unmount();
    answer = { status: 503, body: { error: "store unavailable" } };
    render(<ReplayPage recordingId="r9" />);
    expect(await screen.findByRole("alert")).toHaveTextContent("store unavailable");
    answer = { status: 200, body: recording({ id: "r9" }) as never };
    fireEvent.click(screen.getByRole("button", { name: "Retry" }));
    expect(await screen.findByRole("heading", { name: "Friday jam" })).toBeInTheDocument();
  });

  it("asks for the viewer's age first when the stream is age-restricted", async () => {
    fakeFetch({
      "GET /api/recordings/r1": () => ({ body: recording() }),
      "GET /api/streams/s1": () => ({ body: streamDetail({ ageRestricted: true }) }),
    });
    render(<ReplayPage recordingId="r1" />);
    expect(await screen.findByRole("heading", { name: "Age-restricted stream" })).toBeInTheDocument();
    expect(document.querySelector("video")).toBeNull();
    expect(started.sources).toEqual([]);
    fireEvent.click(screen.getByRole("button", { name: "I am 18 or older" }));
    await vi.waitFor(() => expect(started.sources).toHaveLength(1));
  });
});
