import { api, ApiError, errorMessage } from "../lib/api";
import { navigate } from "../lib/router";
import type { StreamCard } from "../lib/types";
import { useResource } from "../lib/useResource";
import { LiveCard, LiveCardSkeleton } from "../components/LiveCard";
import { ReplayCard } from "../components/ReplayCard";
import { recentReplays, replayPath } from "../lib/recordings";

export function DiscoveryPage() {
  const streams = useResource("/api/streams", async (signal) => {
    const body = await api<{ streams: StreamCard[] }>("/api/streams", { signal, refresh: false });
    return body.streams;
  });
  return (
    <main className="discovery">
      <h1>Live now</h1>
      {streams.status === "loading" && (
        <div className="grid" aria-busy="true">
          {Array.from({ length: 6 }, (_, n) => (
            <LiveCardSkeleton key={n} />
          ))}
        </div>
      )}
      {streams.status === "failed" && (
        <div className="error-box" role="alert">
          <p>Could not load the streams: {errorMessage(streams.error)}</p>
          <button type="button" onClick={() => void streams.reload()}>
            Retry
          </button>
        </div>
      )}
      {streams.status === "ready" && streams.value.length === 0 && <p className="empty">Nobody is live right now.</p>}
      {streams.status === "ready" && streams.value.length > 0 && (
        <div className="grid">
          {streams.value.map((stream) => (
            <LiveCard key={stream.id} stream={stream} onOpen={(id) => navigate(`/watch/${encodeURIComponent(id)}`)} />
          ))}
        </div>
      )}
      <RecentReplays />
    </main>
  );
}

/** The latest public broadcast recordings, under the live streams; nothing while there are none. */
function RecentReplays() {
  const replays = useResource("/api/replays", (signal) => recentReplays(undefined, signal));
  const none = replays.status === "ready" && replays.value.length === 0;
  // 404: a server that keeps no recordings.
  const unsupported = replays.status === "failed" && replays.error instanceof ApiError && replays.error.status === 404;
  if (replays.status === "loading" || none || unsupported) return null;
  return (
    <section className="recent-replays" aria-labelledby="replays-title">
      <h2 id="replays-title">Recent replays</h2>
      {replays.status === "failed" ? (
        <div className="error-box" role="alert">
          <p>Could not load the replays: {errorMessage(replays.error)}</p>
          <button type="button" onClick={() => void replays.reload()}>
            Retry
          </button>
        </div>
      ) : (
        <div className="grid">
          {replays.value.map((replay) => (
            <ReplayCard key={replay.id} replay={replay} onOpen={(id) => navigate(replayPath(id))} />
          ))}
        </div>
      )}
    </section>
  );
}
