import { useCallback, useEffect, useState } from "react";
import { api, errorMessage } from "../lib/api";
import { navigate } from "../lib/router";
import type { StreamCard } from "../lib/types";
import { LiveCard, LiveCardSkeleton } from "../components/LiveCard";

type Load = { status: "loading" } | { status: "error"; message: string } | { status: "ready"; streams: StreamCard[] };

export function DiscoveryPage() {
  const [load, setLoad] = useState<Load>({ status: "loading" });
  const fetchStreams = useCallback(async (signal?: AbortSignal) => {
    setLoad({ status: "loading" });
    try {
      const body = await api<{ streams: StreamCard[] }>("/api/streams", { signal, refresh: false });
      setLoad({ status: "ready", streams: body.streams });
    } catch (error) {
      if (signal?.aborted) return;
      setLoad({ status: "error", message: errorMessage(error) });
    }
  }, []);
  useEffect(() => {
    const abort = new AbortController();
    void fetchStreams(abort.signal);
    return () => abort.abort();
  }, [fetchStreams]);

  return (
    <main className="discovery">
      <h1>Live now</h1>
      {load.status === "loading" && (
        <div className="grid" aria-busy="true">
          {Array.from({ length: 6 }, (_, n) => (
            <LiveCardSkeleton key={n} />
          ))}
        </div>
      )}
      {load.status === "error" && (
        <div className="error-box" role="alert">
          <p>Could not load the streams: {load.message}</p>
          <button type="button" onClick={() => void fetchStreams()}>
            Retry
          </button>
        </div>
      )}
      {load.status === "ready" && load.streams.length === 0 && <p className="empty">Nobody is live right now.</p>}
      {load.status === "ready" && load.streams.length > 0 && (
        <div className="grid">
          {load.streams.map((stream) => (
            <LiveCard key={stream.id} stream={stream} onOpen={(id) => navigate(`/watch/${encodeURIComponent(id)}`)} />
          ))}
        </div>
      )}
    </main>
  );
}
