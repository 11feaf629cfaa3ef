import { api, errorMessage } from "../lib/api";
import { navigate } from "../lib/router";
import type { StreamCard } from "../lib/types";
import { useResource } from "../lib/useResource";
import { LiveCard, LiveCardSkeleton } from "../components/LiveCard";

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
    </main>
  );
}
