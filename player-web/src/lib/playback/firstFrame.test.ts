import { describe, expect, it, vi } from "vitest";
import { watchFirstFrame } from "./firstFrame";

/** A video element with frame callbacks (jsdom has none); `shown()` presents a frame. */
function withFrameCallbacks(cancel: (handle: number) => void = () => undefined) {
  const element = sized(document.createElement("video"));
  let pending: VideoFrameRequestCallback | null = null;
  element.requestVideoFrameCallback = (callback) => {
    pending = callback;
    return 7;
  };
  element.cancelVideoFrameCallback = cancel;
  const shown = () => pending?.(performance.now(), {} as VideoFrameCallbackMetadata);
  return { element, shown };
}

/** A picture's size, as the browser knows it once the metadata is in (jsdom: always 0). */
function sized(element: HTMLVideoElement, width = 1280): HTMLVideoElement {
  Object.defineProperty(element, "videoWidth", { value: width, configurable: true });
  return element;
}

describe("watchFirstFrame", () => {
  it("uses requestVideoFrameCallback where the browser has it, once", () => {
    const { element, shown } = withFrameCallbacks();
    const onFrame = vi.fn();
    watchFirstFrame(element, onFrame);
    element.dispatchEvent(new Event("playing")); // not what it waits for here
    expect(onFrame).not.toHaveBeenCalled();
    shown();
    shown();
    expect(onFrame).toHaveBeenCalledTimes(1);
    expect(onFrame).toHaveBeenCalledWith("video");
  });

  it("counts the first sound of a stream without a picture, which shows no frame", () => {
    const { element } = withFrameCallbacks();
    sized(element, 0);
    const onFrame = vi.fn();
    watchFirstFrame(element, onFrame);
    element.dispatchEvent(new Event("playing"));
    element.dispatchEvent(new Event("playing"));
    expect(onFrame).toHaveBeenCalledTimes(1);
    expect(onFrame).toHaveBeenCalledWith("audio");
  });

  it("cancels the frame callback when it stops waiting", () => {
    const cancel = vi.fn();
    const { element, shown } = withFrameCallbacks(cancel);
    const onFrame = vi.fn();
    watchFirstFrame(element, onFrame)();
    expect(cancel).toHaveBeenCalledWith(7);
    shown();
    expect(onFrame).not.toHaveBeenCalled();
  });

  it("falls back to the first playing event, and stops listening when told", () => {
    const element = sized(document.createElement("video"));
    const onFrame = vi.fn();
    watchFirstFrame(element, onFrame);
    element.dispatchEvent(new Event("playing"));
    element.dispatchEvent(new Event("playing"));
    expect(onFrame).toHaveBeenCalledTimes(1);
    expect(onFrame).toHaveBeenCalledWith("video");

    const other = document.createElement("video");
    const never = vi.fn();
    watchFirstFrame(other, never)();
    other.dispatchEvent(new Event("playing"));
    expect(never).not.toHaveBeenCalled();
  });
});
