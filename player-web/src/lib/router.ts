// A few routes, on the History API: /, /watch/:id, /replay/:recordingId, /studio, /studio/:id.
// (mediad/http/web.py serves index.html at each of them.)
import { useEffect, useState } from "react";

export type Route =
  | { page: "discover" }
  | { page: "watch"; streamId: string }
  | { page: "replay"; recordingId: string }
  | { page: "studio"; streamId: string | null }
  | { page: "notFound" };

export function parseRoute(pathname: string): Route {
  const parts = pathname.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0) return { page: "discover" };
  if (parts[0] === "watch" && parts.length === 2 && parts[1]) return { page: "watch", streamId: parts[1] };
  if (parts[0] === "replay" && parts.length === 2 && parts[1]) return { page: "replay", recordingId: parts[1] };
  if (parts[0] === "studio" && parts.length <= 2) return { page: "studio", streamId: parts[1] ?? null };
  return { page: "notFound" };
}

export function navigate(path: string): void {
  window.history.pushState(null, "", path);
  window.dispatchEvent(new PopStateEvent("popstate"));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.pathname));
  useEffect(() => {
    const update = () => setRoute(parseRoute(window.location.pathname));
    window.addEventListener("popstate", update);
    return () => window.removeEventListener("popstate", update);
  }, []);
  return route;
}
