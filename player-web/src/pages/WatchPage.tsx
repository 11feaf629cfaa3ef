import { useEffect, useState } from "react";
import { AgeRequirementCard } from "../components/AgeRequirementCard";
import { ErrorBoundary } from "../components/ErrorBoundary";
import { LiveChat } from "../components/LiveChat";
import { LiveBadge } from "../components/LiveBadge";
import { LivePlayer } from "../components/LivePlayer";
import { LiveTipTicker } from "../components/LiveTipTicker";
import { api, ApiError } from "../lib/api";
import { hasAgeConsent } from "../lib/ageGate";
import { env } from "../lib/env";
import { navigate } from "../lib/router";
import type { StreamDetail } from "../lib/types";
import { useChannel } from "../lib/useChannel";

type Load = { status: "loading" } | { status: "error"; message: string } | { status: "ready"; stream: StreamDetail };

export function WatchPage({ streamId }: { streamId: string }) {
  const [load, setLoad] = useState<Load>({ status: "loading" });
  const [consented, setConsented] = useState(() => hasAgeConsent(env.ageGateTtlDays));
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    // Fetch the player's code while the stream's details load: the first frame comes sooner.
    // (Code only: nothing of the stream itself is requested before the age gate.)
    void import("hls.js/light");
  }, []);
  useEffect(() => {
    const abort = new AbortController();
    setLoad({ status: "loading" });
    api<StreamDetail>(`/api/streams/${encodeURIComponent(streamId)}`, { signal: abort.signal, refresh: false })
      .then((stream) => setLoad({ status: "ready", stream }))
      .catch((error: unknown) => {
        if (abort.signal.aborted) return;
        const message =
          error instanceof ApiError && error.status === 404 ? "This stream does not exist." : String((error as Error).message ?? error);
        setLoad({ status: "error", message });
      });
    return () => abort.abort();
  }, [streamId, attempt]);

  if (load.status === "loading") return <main className="watch" aria-busy="true" />;
  if (load.status === "error") {
    return (
      <main className="watch">
        <div className="error-box" role="alert">
          <p>{load.message}</p>
          <button type="button" onClick={() => setAttempt((n) => n + 1)}>
            Retry
          </button>
        </div>
      </main>
    );
  }
  const { stream } = load;
  if (stream.ageRestricted && !consented) {
    return (
      <main className="watch">
        <AgeRequirementCard title={stream.title} onConsent={() => setConsented(true)} onLeave={() => navigate("/")} />
      </main>
    );
  }
  return <Watching stream={stream} />;
}

function Watching({ stream }: { stream: StreamDetail }) {
  const [channel, state] = useChannel(stream.id);
  const streamState = state?.streamState ?? stream.state;
  const hlsPath = new URL(stream.hlsUrl, window.location.origin).pathname;
  const src = `${env.mediaOrigin || ""}${hlsPath}`;
  return (
    <main className="watch">
      <div className="stage">
        <ErrorBoundary what="the player">
          <div className="player-frame">
            {streamState === "ended" ? (
              <div className="player-ended" data-testid="stream-ended">
                The stream has ended.
              </div>
            ) : (
              <LivePlayer src={src} streamId={stream.id} />
            )}
            {channel && <LiveTipTicker feed={channel.tips} />}
          </div>
        </ErrorBoundary>
        <div className="stream-info">
          <LiveBadge state={streamState} />
          <h1>{stream.title}</h1>
          <p className="creator">{stream.creator.displayName || stream.creator.handle}</p>
        </div>
      </div>
      <ErrorBoundary what="the chat">
        {channel && state ? <LiveChat channel={channel} state={state} /> : <section className="live-chat" aria-busy="true" />}
      </ErrorBoundary>
    </main>
  );
}
