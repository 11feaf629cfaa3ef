import { useCallback, useEffect, useState, type RefObject } from "react";

/** What the viewer may seek to (the DVR window) and where playback is, in seconds on the
 * element's timeline. */
export interface DvrRange {
  start: number;
  end: number;
  now: number;
}

/** The element's seekable range, kept current as it plays, and a way to seek in it. */
export function useDvrRange(video: RefObject<HTMLVideoElement | null>): { range: DvrRange | null; seek: (to: number) => void } {
  const [range, setRange] = useState<DvrRange | null>(null);
  useEffect(() => {
    const element = video.current;
    if (!element) return;
    const onTime = () => {
      const seekable = element.seekable;
      if (!seekable.length) return;
      setRange({ start: seekable.start(0), end: seekable.end(seekable.length - 1), now: element.currentTime });
    };
    element.addEventListener("timeupdate", onTime);
    return () => element.removeEventListener("timeupdate", onTime);
  }, [video]);
  const seek = useCallback(
    (to: number) => {
      if (video.current) video.current.currentTime = to;
    },
    [video],
  );
  return { range, seek };
}
