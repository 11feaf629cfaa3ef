// When the first picture is on screen: requestVideoFrameCallback where the browser has it,
// else the first "playing" event (a little earlier than the picture). Engine-independent.

/** Older browsers (and jsdom) have no frame callbacks, whatever the DOM types say. */
type MaybeFrameCallbacks = Partial<Pick<HTMLVideoElement, "requestVideoFrameCallback" | "cancelVideoFrameCallback">>;

/** Calls `onFrame` once, at the first frame shown; returns what stops waiting for it. */
export function watchFirstFrame(element: HTMLVideoElement, onFrame: () => void): () => void {
  const media: MaybeFrameCallbacks = element;
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    onFrame();
  };
  if (typeof media.requestVideoFrameCallback === "function") {
    const handle = media.requestVideoFrameCallback(once);
    return () => {
      done = true;
      media.cancelVideoFrameCallback?.(handle);
    };
  }
  element.addEventListener("playing", once, { once: true });
  return () => {
    done = true;
    element.removeEventListener("playing", once);
  };
}
