import { useCallback, useEffect, useState, type RefObject } from "react";

/** Where a recording's playback is: position and length (s), and whether it runs. */
export interface MediaClock {
  currentTime: number;
  /** The element's duration once known (it grows while a recording is still being made),
   * else `fallbackDuration`. */
  duration: number;
  paused: boolean;
  ended: boolean;
}

/** The element's clock, kept current from its media events, and the seek, play and pause a
 * player's controls need. `fallbackDuration`: what the server said, until the element knows. */
export function useMediaClock(
  video: RefObject<HTMLVideoElement | null>,
  fallbackDuration = 0,
): MediaClock & { seek: (to: number) => void; togglePaused: () => void } {
  const read = useCallback(
    (element: HTMLVideoElement | null): MediaClock => {
      const known = element && Number.isFinite(element.duration) && element.duration > 0 ? element.duration : null;
      return {
        currentTime: element?.currentTime ?? 0,
        duration: known ?? fallbackDuration,
        paused: element?.paused ?? true,
        ended: element?.ended ?? false,
      };
    },
    [fallbackDuration],
  );
  const [clock, setClock] = useState<MediaClock>(() => read(null));
  useEffect(() => {
    const element = video.current;
    if (!element) return;
    const update = () => setClock(read(element));
    const events = ["timeupdate", "durationchange", "loadedmetadata", "play", "pause", "ended", "seeked"];
    for (const type of events) element.addEventListener(type, update);
    update();
    return () => {
      for (const type of events) element.removeEventListener(type, update);
    };
  }, [video, read]);

  const seek = useCallback(
    (to: number) => {
      const element = video.current;
      if (!element) return;
      element.currentTime = to;
      setClock(read(element));
    },
    [video, read],
  );
  const togglePaused = useCallback(() => {
    const element = video.current;
    if (!element) return;
    if (element.paused || element.ended) {
      if (element.ended) element.currentTime = 0;
      element.play().catch(() => undefined);
    } else {
      element.pause();
    }
  }, [video]);
  return { ...clock, seek, togglePaused };
}
