import { useEffect, useState } from "react";

/** How often a live card's thumbnail is fetched again (the daemon makes one every
 * thumbnails.interval_sec, 10 s by default, and caches it that long). */
export const THUMBNAIL_REFRESH_MS = 10_000;

/** `url`, asked for again every `everyMs` while the page is visible: the first time as it is
 * (the browser's cache may hold it already), then with a query naming the interval, so that
 * the browser fetches the new picture instead of the one it cached (cards of one stream
 * share it). null `url` or `everyMs`: no refresh. */
export function useRefreshedUrl(url: string | null, everyMs: number | null): string | null {
  const [stamp, setStamp] = useState<number | null>(null);
  useEffect(() => {
    setStamp(null);
    if (!url || !everyMs) return;
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") setStamp(Math.floor(Date.now() / everyMs));
    }, everyMs);
    return () => clearInterval(timer);
  }, [url, everyMs]);
  if (!url || stamp === null) return url;
  return `${url}${url.includes("?") ? "&" : "?"}t=${stamp}`;
}
