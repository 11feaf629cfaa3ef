import { useCallback, useLayoutEffect, useRef, useState, type RefObject } from "react";

export interface MutedAutoplay {
  muted: boolean;
  toggleMuted: () => void;
  /** Start the element playing; when the browser refuses sound without a gesture, it mutes
   * (through `muted`, so the Mute button says so) and plays again. */
  play: () => void;
}

/** The one owner of the video element's muting: React state, applied to the element. It
 * starts muted, since browsers let only muted video play by itself; the viewer unmutes. */
export function useMutedAutoplay(video: RefObject<HTMLVideoElement | null>): MutedAutoplay {
  const [muted, setMuted] = useState(true);
  const playOnceMuted = useRef(false);

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

  const toggleMuted = useCallback(() => setMuted((value) => !value), []);
  return { muted, toggleMuted, play };
}
