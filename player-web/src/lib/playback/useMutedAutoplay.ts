import { useCallback, useEffect, useLayoutEffect, useRef, useState, type RefObject } from "react";

export interface MutedAutoplay {
  muted: boolean;
  toggleMuted: () => void;
  /** Start the element playing; when the browser refuses sound without a gesture, it mutes
   * (through `muted`, so the Mute button says so) and plays again. */
  play: () => void;
}

/** How long after the element unmuted itself a pause counts as its autoplay policy's. */
const POLICY_PAUSE_MS = 1000;

/** The one owner of the video element's muting: React state, applied to the element. It
 * starts muted, since browsers let only muted video play by itself; the viewer unmutes. A
 * change the element makes on its own is followed (a picture-in-picture window's mute
 * button), but sound before the viewer asked for it is muted again: WebKitGTK unmutes the
 * element as its media pipeline comes up. */
export function useMutedAutoplay(video: RefObject<HTMLVideoElement | null>): MutedAutoplay {
  const [muted, setMuted] = useState(true);
  const playOnceMuted = useRef(false);
  const askedForSound = useRef(false);

  useEffect(() => {
    const element = video.current;
    if (!element) return;
    // Its autoplay policy then pauses the video that turned audible, at once or a moment
    // later (seen: up to 0.1 s): within that moment a pause is the policy's, and it plays on.
    let unmutedByItselfAt = -Infinity;
    const playOn = () => void element.play().catch(() => undefined);
    const onVolumeChange = () => {
      if (element.muted || askedForSound.current) {
        setMuted(element.muted);
        return;
      }
      element.muted = true;
      unmutedByItselfAt = performance.now();
      if (element.paused) playOn();
    };
    const onPause = () => {
      if (performance.now() - unmutedByItselfAt < POLICY_PAUSE_MS) playOn();
    };
    element.addEventListener("volumechange", onVolumeChange);
    element.addEventListener("pause", onPause);
    return () => {
      element.removeEventListener("volumechange", onVolumeChange);
      element.removeEventListener("pause", onPause);
    };
  }, [video]);

  // Before paint and before any engine starts: the element is never out of step with `muted`.
  useLayoutEffect(() => {
    const element = video.current;
    if (!element) return;
    element.muted = muted;
    if (muted && playOnceMuted.current) {
      playOnceMuted.current = false;
      element.play().catch(() => undefined);
    }
  }, [video, muted]);

  const play = useCallback(() => {
    const element = video.current;
    if (!element) return;
    element.play().catch((error: unknown) => {
      const refusedSound = error instanceof DOMException && error.name === "NotAllowedError" && !element.muted;
      if (!refusedSound) return; // paused by the viewer, or a source that went away: nothing to do
      playOnceMuted.current = true;
      setMuted(true);
    });
  }, [video]);

  const toggleMuted = useCallback(
    () =>
      setMuted((value) => {
        if (value) askedForSound.current = true;
        return !value;
      }),
    [],
  );
  return { muted, toggleMuted, play };
}
