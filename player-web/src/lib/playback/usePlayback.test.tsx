import { act, renderHook, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { PlaybackSource } from "./engine";
import { UNSUPPORTED } from "./startEngine";
import { usePlayback } from "./usePlayback";

let load: ReturnType<typeof vi.spyOn>;
beforeEach(() => {
  load = vi.spyOn(HTMLMediaElement.prototype, "load").mockImplementation(() => undefined);
});
afterEach(() => vi.restoreAllMocks());

function mount(source: PlaybackSource, canPlay: "maybe" | "") {
  vi.spyOn(HTMLMediaElement.prototype, "canPlayType").mockReturnValue(canPlay);
  const element = document.createElement("video");
  const video = { current: element };
  const play = vi.fn();
  const hook = renderHook(({ from }) => usePlayback(video, from, play), { initialProps: { from: source } });
  return { element, play, ...hook };
}

// jsdom has no MSE: these run the real engines down the path of a browser without it.
describe("usePlayback", () => {
  it("starts the element once the engine is ready, and follows it to its first frame and its end", async () => {
    const { element, play, result } = mount({ hlsUrl: "/hls/ab12/index.m3u8" }, "maybe");
    expect(result.current.status).toBe("loading");
    await waitFor(() => expect(play).toHaveBeenCalledTimes(1));
    expect(element.getAttribute("src")).toBe("/hls/ab12/index.m3u8");
    expect(result.current.firstFrame).toBeNull();
    act(() => result.current.chooseRendition("/hls/ab12/720p/index.m3u8"));
    expect(result.current.rendition).toBe("/hls/ab12/720p/index.m3u8");
    act(() => {
      element.dispatchEvent(new Event("playing"));
    });
    expect(result.current.status).toBe("playing");
    const { startedAt, at } = result.current.firstFrame!;
    expect(at).toBeGreaterThanOrEqual(startedAt);
    act(() => {
      element.dispatchEvent(new Event("ended"));
    });
    expect(result.current.status).toBe("ended");
  });

  it("reports an engine that cannot play here, and starts over on retry", async () => {
    const { result } = mount({ hlsUrl: "/hls/x/index.m3u8" }, "");
    await waitFor(() => expect(result.current.status).toBe("error"));
    expect(result.current.error).toBe(UNSUPPORTED);
    act(() => result.current.retry());
    expect(result.current).toMatchObject({ status: "loading", error: null });
    await waitFor(() => expect(result.current.status).toBe("error"));
  });

  it("measures latency from the element's seekable end when the engine has no estimate", async () => {
    const { element, play, result } = mount({ hlsUrl: "/hls/x/index.m3u8" }, "maybe");
    await waitFor(() => expect(play).toHaveBeenCalled());
    expect(result.current.latency()).toBeNull();
    Object.defineProperty(element, "seekable", { value: { length: 1, start: () => 0, end: () => 30 } });
    element.currentTime = 27.5;
    expect(result.current.latency()).toBe(2.5);
    expect(result.current.liveSyncPosition()).toBeNull();
  });

  it("lets go of the element on a new source and on unmount", async () => {
    const { element, play, rerender, unmount } = mount({ hlsUrl: "/hls/a/index.m3u8" }, "maybe");
    await waitFor(() => expect(play).toHaveBeenCalledTimes(1));
    rerender({ from: { hlsUrl: "/hls/b/index.m3u8" } });
    expect(load).toHaveBeenCalledTimes(1);
    await waitFor(() => expect(element.getAttribute("src")).toBe("/hls/b/index.m3u8"));
    unmount();
    expect(element.hasAttribute("src")).toBe(false);
    expect(load).toHaveBeenCalledTimes(2);
  });
});
