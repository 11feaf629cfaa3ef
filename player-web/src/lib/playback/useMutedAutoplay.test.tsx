import { act, renderHook } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { useMutedAutoplay } from "./useMutedAutoplay";

afterEach(() => vi.restoreAllMocks());

function mount() {
  const element = document.createElement("video");
  const hook = renderHook(() => useMutedAutoplay({ current: element }));
  return { element, ...hook };
}

describe("useMutedAutoplay", () => {
  it("starts muted, on the element too, and the viewer's toggle reaches the element", () => {
    const { element, result } = mount();
    expect(result.current.muted).toBe(true);
    expect(element.muted).toBe(true);
    act(() => result.current.toggleMuted());
    expect(result.current.muted).toBe(false);
    expect(element.muted).toBe(false);
  });

  it("plays as the viewer left it, without muting behind their back", async () => {
    const play = vi.spyOn(HTMLMediaElement.prototype, "play").mockResolvedValue(undefined);
    const { element, result } = mount();
    act(() => result.current.toggleMuted());
    await act(async () => result.current.play());
    expect(play).toHaveBeenCalledTimes(1);
    expect(element.muted).toBe(false);
    expect(result.current.muted).toBe(false);
  });

  it("mutes through its state and plays again when the browser refuses sound", async () => {
    const play = vi
      .spyOn(HTMLMediaElement.prototype, "play")
      .mockRejectedValueOnce(new DOMException("play() needs a user gesture", "NotAllowedError"))
      .mockResolvedValue(undefined);
    const { element, result } = mount();
    act(() => result.current.toggleMuted());
    await act(async () => result.current.play());
    expect(result.current.muted).toBe(true);
    expect(element.muted).toBe(true);
    expect(play).toHaveBeenCalledTimes(2);
  });

  it("leaves muting alone when playing fails for another reason", async () => {
    const play = vi.spyOn(HTMLMediaElement.prototype, "play").mockRejectedValue(new DOMException("the source went away", "AbortError"));
    const { result } = mount();
    act(() => result.current.toggleMuted());
    await act(async () => result.current.play());
    expect(result.current.muted).toBe(false);
    expect(play).toHaveBeenCalledTimes(1);
  });

  it("keeps the element muted when the browser unmutes it by itself before the viewer asked for sound", () => {
    // WebKitGTK does so as its media pipeline comes up: the button said Unmute over sound,
    // and its autoplay policy paused the video, now audible.
    const play = vi.spyOn(HTMLMediaElement.prototype, "play").mockResolvedValue(undefined);
    const { element, result } = mount();
    Object.defineProperty(element, "paused", { value: false, configurable: true });
    act(() => {
      element.muted = false;
      element.dispatchEvent(new Event("volumechange"));
      element.dispatchEvent(new Event("pause"));
    });
    expect(element.muted).toBe(true);
    expect(result.current.muted).toBe(true);
    expect(play).toHaveBeenCalledTimes(1); // it plays on, muted
    const now = vi.spyOn(performance, "now").mockReturnValue(performance.now() + 2000);
    act(() => {
      element.dispatchEvent(new Event("pause")); // later: a pause of another cause is left alone
    });
    expect(play).toHaveBeenCalledTimes(1);
    now.mockRestore();
  });

  it("follows a change made outside the player once the viewer has asked for sound", () => {
    // The picture-in-picture window's own mute button, say.
    const { element, result } = mount();
    act(() => result.current.toggleMuted());
    act(() => {
      element.muted = true;
      element.dispatchEvent(new Event("volumechange"));
    });
    expect(result.current.muted).toBe(true);
    act(() => {
      element.muted = false;
      element.dispatchEvent(new Event("volumechange"));
    });
    expect(result.current.muted).toBe(false);
    expect(element.muted).toBe(false);
  });
});
