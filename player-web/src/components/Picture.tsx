import { useState } from "react";

/** A card's or a player's picture; the blank placeholder while there is none, and in place of
 * one that fails to load (a new `src` is tried again). */
export function Picture({ src, alt = "" }: { src: string | null; alt?: string }) {
  const [failed, setFailed] = useState<string | null>(null);
  if (!src || failed === src) return <div className="poster-blank" data-testid="poster-blank" />;
  return <img src={src} alt={alt} loading="lazy" onError={() => setFailed(src)} />;
}
