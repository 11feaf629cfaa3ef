import { useEffect, useState } from "react";
import { AgeRequirementCard } from "../components/AgeRequirementCard";
import { AppLink } from "../components/AppLink";
import { ErrorBoundary } from "../components/ErrorBoundary";
import { stateNote } from "../components/RecordingList";
import { ReplayPlayer } from "../components/ReplayPlayer";
import { api, ApiError, errorMessage } from "../lib/api";
import { hasAgeConsent } from "../lib/ageGate";
import { env } from "../lib/env";
import { formatClock, formatStart } from "../lib/format";
import { preloadEngines } from "../lib/playback/startEngine";
import { getRecording, mediaUrl } from "../lib/recordings";
import { navigate } from "../lib/router";
import type { Recording, StreamDetail } from "../lib/types";
import { useResource } from "../lib/useResource";

interface Loaded {
  recording: Recording;
  /** The stream it was recorded from (for its title, creator and age gate); null when it is
   * gone. */
  stream: StreamDetail | null;
}

async function load(id: string, signal: AbortSignal): Promise<Loaded> {
  const recording = await getRecording(id, signal);
  const path = `/api/streams/${encodeURIComponent(recording.streamId)}`;
  const stream = await api<StreamDetail>(path, { signal, refresh: false }).catch((error: unknown) => {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  });
  return { recording, stream };
}

/** /replay/{id}: a past broadcast or a clip, played with a full seek bar. */
export function ReplayPage({ recordingId }: { recordingId: string }) {
  const loaded = useResource(`/api/recordings/${encodeURIComponent(recordingId)}`, (signal) => load(recordingId, signal));
  const [consented, setConsented] = useState(() => hasAgeConsent(env.ageGateTtlDays));
  useEffect(() => preloadEngines(), []);

  if (loaded.status === "loading") return <main className="watch replay" aria-busy="true" />;
  if (loaded.status === "failed") {
    const message =
      loaded.error instanceof ApiError && loaded.error.status === 404
        ? "This replay does not exist (it was deleted, or its replays are private)."
        : errorMessage(loaded.error);
    return (
      <main className="watch replay">
        <div className="error-box" role="alert">
          <p>{message}</p>
          <button type="button" onClick={() => void loaded.reload()}>
            Retry
          </button>
        </div>
      </main>
    );
  }
  const { recording, stream } = loaded.value;
  const title = recording.title || stream?.title || (recording.kind === "clip" ? "Clip" : "Broadcast");
  if (stream?.ageRestricted && !consented) {
    return (
      <main className="watch replay">
        <AgeRequirementCard title={title} onConsent={() => setConsented(true)} onLeave={() => navigate("/")} />
      </main>
    );
  }
  return (
    <main className="watch replay">
      <div className="stage">
        <ErrorBoundary what="the player">
          <div className="player-frame">
            <ReplayPlayer
              src={mediaUrl(recording.playbackUrl)}
              posterUrl={mediaUrl(recording.posterUrl)}
              durationSec={recording.durationSec}
              growing={recording.state === "recording"}
            />
          </div>
        </ErrorBoundary>
        <div className="stream-info">
          <span className="badge badge-replay">{recording.kind === "clip" ? "CLIP" : "REPLAY"}</span>
          <h1>{title}</h1>
          {stream && (
            <p className="creator">
              {stream.creator.displayName || stream.creator.handle} ·{" "}
              <AppLink href={`/watch/${encodeURIComponent(stream.id)}`}>{stream.title}</AppLink>
            </p>
          )}
          <p className="recording-meta">
            <time dateTime={recording.startedAt}>{formatStart(recording.startedAt)}</time> · {formatClock(recording.durationSec)}
            {recording.createdBy && <> · clipped by {recording.createdBy}</>}
          </p>
          {recording.state !== "recording" && stateNote(recording) && <p className="recording-state">{stateNote(recording)}</p>}
          <p>
            <a className="download" href={mediaUrl(recording.downloadUrl)} download>
              Download MP4
            </a>
          </p>
        </div>
      </div>
    </main>
  );
}
