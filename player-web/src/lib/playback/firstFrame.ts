// When the first picture is on screen: requestVideoFrameCallback where the browser has it,
// else the first "playing" event (a little earlier than the picture). A stream without a
// picture (audio only) never calls a frame callback: its first "playing" with no video
// size counts instead, as the first sound. Engine-independent.

/** Older browsers (and jsdom) have no frame callbacks, whatever the DOM types say. */
type MaybeFrameCallbacks = Partial<Pick<HTMLVideoElement, "requestVideoFrameCallback" | "cancelVideoFrameCallback">>;

export type FirstMedia = "video" | "audio";

/** Calls `onFrame` once, at the first frame shown (or the first sound of a stream that has
 * no picture); returns what stops waiting for it. */
export function watchFirstFrame(element: HTMLVideoElement, onFrame: (media: FirstMedia) => void): () => void {
  const media: MaybeFrameCallbacks = element;
  let done = false;
  const once = (what: FirstMedia) => {
    if (done) return;
    done = true;
    onFrame(what);
  };
  const frames = typeof media.requestVideoFrameCallback === "function";
  const onPlaying = () => {
    if (element.videoWidth === 0) once("audio");
    else if (!frames) once("video");
  };
  element.addEventListener("playing", onPlaying);
  const handle = frames ? media.requestVideoFrameCallback?.(() => once("video")) : undefined;
  return () => {
    done = true;
    element.removeEventListener("playing", onPlaying);
    if (handle !== undefined) media.cancelVideoFrameCallback?.(handle);
  };
}
