import { act, renderHook } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { useDvrRange } from "./useDvrRange";

/** jsdom plays nothing: give the element the seekable window a live stream would have. */
function seekableFrom(element: HTMLVideoElement, start: number, end: number): void {
  Object.defineProperty(element, "seekable", { configurable: true, value: { length: 1, start: () => start, end: () => end } });
}

describe("useDvrRange", () => {
  it("follows the seekable window and the position as the element plays", () => {
    const element = document.createElement("video");
    const { result } = renderHook(() => useDvrRange({ current: element }));
    act(() => {
      element.dispatchEvent(new Event("timeupdate"));
    });
    expect(result.current.range).toBeNull(); // nothing seekable yet
    seekableFrom(element, 10, 130);
    element.currentTime = 125;
    act(() => {
      element.dispatchEvent(new Event("timeupdate"));
    });
    expect(result.current.range).toEqual({ start: 10, end: 130, now: 125 });
  });

  it("seeks the element, and stops following it on unmount", () => {
    const element = document.createElement("video");
    const added = vi.spyOn(element, "addEventListener");
    const removed = vi.spyOn(element, "removeEventListener");
    const { result, unmount } = renderHook(() => useDvrRange({ current: element }));
    act(() => result.current.seek(42));
    expect(element.currentTime).toBe(42);
    const listener = added.mock.calls.find(([type]) => type === "timeupdate")?.[1];
    expect(listener).toBeDefined();
    unmount();
    expect(removed).toHaveBeenCalledWith("timeupdate", listener);
  });
});
