import { useEffect, useState } from "react";
import { AgeRequirementCard } from "../components/AgeRequirementCard";
import { ErrorBoundary } from "../components/ErrorBoundary";
import { ClipMaker } from "../components/ClipMaker";
import { LiveChat } from "../components/LiveChat";
import { LiveBadge } from "../components/LiveBadge";
import { LivePlayer } from "../components/LivePlayer";
import { LiveTipTicker } from "../components/LiveTipTicker";
import { StreamRecordings } from "../components/StreamRecordings";
import { api, ApiError, errorMessage } from "../lib/api";
import { hasAgeConsent } from "../lib/ageGate";
import { env } from "../lib/env";
import { preloadEngines } from "../lib/playback/startEngine";
import { pictureOf } from "../lib/recordings";
import { navigate } from "../lib/router";
import type { Recording, StreamDetail } from "../lib/types";
import { useChannel } from "../lib/useChannel";
import { useResource } from "../lib/useResource";

export function WatchPage({ streamId }: { streamId: string }) {
  const path = `/api/streams/${encodeURIComponent(streamId)}`;
  const stream = useResource(path, (signal) => api<StreamDetail>(path, { signal, refresh: false }));
  const [consented, setConsented] = useState(() => hasAgeConsent(env.ageGateTtlDays));
  useEffect(() => {
    // Fetch the player's code while the stream's details load: the first frame comes sooner.
    // (Code only: nothing of the stream itself is requested before the age gate.)
    preloadEngines();
  }, []);

  if (stream.status === "loading") return <main className="watch" aria-busy="true" />;
  if (stream.status === "failed") {
    const message =
      stream.error instanceof ApiError && stream.error.status === 404 ? "This stream does not exist." : errorMessage(stream.error);
    return (
      <main className="watch">
        <div className="error-box" role="alert">
          <p>{message}</p>
          <button type="button" onClick={() => void stream.reload()}>
            Retry
          </button>
        </div>
      </main>
    );
  }
  if (stream.value.ageRestricted && !consented) {
    return (
      <main className="watch">
        <AgeRequirementCard title={stream.value.title} onConsent={() => setConsented(true)} onLeave={() => navigate("/")} />
      </main>
    );
  }
  return <Watching stream={stream.value} />;
}

function Watching({ stream }: { stream: StreamDetail }) {
  const [channel, state] = useChannel(stream.id);
  const streamState = state?.streamState ?? stream.state;
  const hlsPath = new URL(stream.hlsUrl, window.location.origin).pathname;
  const src = `${env.mediaOrigin || ""}${hlsPath}`;
  // WHEP from the same origin as the media (the daemon serves both).
  const whepSrc = stream.whepUrl ? `${env.mediaOrigin || ""}${new URL(stream.whepUrl, window.location.origin).pathname}` : undefined;
  const onAir = streamState === "live" || streamState === "reconnecting";
  // Signed in (a viewer, the creator, staff): guests cannot clip.
  const mayClip = onAir && state?.you != null && state.you.role !== "guest";
  const [clipsRevision, setClipsRevision] = useState(0);
  // Clips: the stream's staff and whoever cut one (broadcasts are deleted in the control room).
  const you = state?.you;
  const mayDeleteHere = (recording: Recording) =>
    recording.kind === "clip" && you != null && you.role !== "guest" && (you.canModerate || recording.createdBy === you.handle);
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
              // Kept through "reconnecting": the last picture stays, under the player's notice.
              <LivePlayer
                src={src}
                whepSrc={whepSrc}
                realtimeDefault={stream.realtimePlayback}
                streamId={stream.id}
                streamState={streamState}
                title={stream.title}
                posterUrl={stream.posterUrl}
                previewUrl={pictureOf(stream.posterUrl, stream.thumbnailUrl) ?? undefined}
              />
            )}
            {channel && <LiveTipTicker feed={channel.tips} />}
          </div>
        </ErrorBoundary>
        <div className="stream-info">
          <LiveBadge state={streamState} />
          <h1>{stream.title}</h1>
          <p className="creator">{stream.creator.displayName || stream.creator.handle}</p>
          {mayClip && <ClipMaker streamId={stream.id} maxSec={stream.clipMaxSec} onCreated={() => setClipsRevision((n) => n + 1)} />}
        </div>
        <StreamRecordings streamId={stream.id} mayDelete={mayDeleteHere} clipsRevision={clipsRevision} />
      </div>
      <ErrorBoundary what="the chat">
        {channel && state ? <LiveChat channel={channel} state={state} /> : <section className="live-chat" aria-busy="true" />}
      </ErrorBoundary>
    </main>
  );
}
