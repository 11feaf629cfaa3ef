import { EncoderAdvice } from "../components/EncoderAdvice";
import { ErrorBoundary } from "../components/ErrorBoundary";
import { HealthPanel } from "../components/HealthPanel";
import { LiveChat } from "../components/LiveChat";
import { ModerationPanel } from "../components/ModerationPanel";
import { PublishersPanel } from "../components/PublishersPanel";
import { RecordingStatus } from "../components/RecordingStatus";
import { SettingsPanel } from "../components/SettingsPanel";
import { SignIn } from "../components/SignIn";
import { StatusControl } from "../components/StatusControl";
import { StreamKeyCard } from "../components/StreamKeyCard";
import { StreamRecordings } from "../components/StreamRecordings";
import { api, ApiError, hasSession } from "../lib/api";
import { navigate } from "../lib/router";
import type { StreamCard, StreamDetail, User } from "../lib/types";
import { useChannel } from "../lib/useChannel";
import { useResource } from "../lib/useResource";

interface Me {
  user: User;
  streams: StreamCard[];
  moderates: string[];
}

/** Who is signed in, or null for nobody (not asked when there is no session at all). */
async function signedIn(signal: AbortSignal): Promise<Me | null> {
  if (!hasSession()) return null;
  try {
    return await api<Me>("/api/me", { signal });
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    throw error;
  }
}

export function ControlRoom({ streamId }: { streamId: string | null }) {
  const session = useResource("/api/me", signedIn);

  // Only a 401 means signed out; after any other failure the room keeps waiting.
  if (session.status !== "ready") return <main className="control-room" aria-busy="true" />;
  if (session.value === null) {
    return (
      <main className="control-room">
        <SignIn onSignedIn={() => void session.reload()} />
      </main>
    );
  }
  const me = session.value;
  const chosen = streamId ?? me.streams[0]?.id ?? null;
  const signOut = async () => {
    await api("/api/auth/logout", { method: "POST", refresh: false }).catch(() => undefined);
    session.set(null);
  };
  return (
    <main className="control-room">
      <header className="room-header">
        <h1>Control room</h1>
        <span>
          Signed in as <strong>{me.user.handle}</strong>
        </span>
        {me.streams.length > 1 && (
          <select aria-label="Stream" value={chosen ?? ""} onChange={(event) => navigate(`/studio/${encodeURIComponent(event.target.value)}`)}>
            {me.streams.map((stream) => (
              <option key={stream.id} value={stream.id}>
                {stream.title}
              </option>
            ))}
          </select>
        )}
        <button type="button" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      {chosen ? (
        <ErrorBoundary what="the control room">
          <StreamRoom key={chosen} streamId={chosen} />
        </ErrorBoundary>
      ) : (
        <p className="empty">You have no stream yet.</p>
      )}
    </main>
  );
}

function StreamRoom({ streamId }: { streamId: string }) {
  const path = `/api/streams/${encodeURIComponent(streamId)}`;
  const detail = useResource(path, (signal) => api<StreamDetail>(path, { signal }));
  const stream = detail.value;
  const [channel, state] = useChannel(streamId);
  if (!stream) return <div aria-busy="true" />;
  const current = state?.streamState ?? stream.state;
  return (
    <div className="room-grid">
      <div className="column">
        <StatusControl stream={stream} state={current} onChanged={detail.set} />
        <HealthPanel streamId={streamId} live={state?.health ?? null} />
        <RecordingStatus recording={state?.health?.recording ?? null} />
        <EncoderAdvice advice={state?.health?.advice ?? []} />
        <PublishersPanel publishers={state?.health?.publishers ?? []} />
        <StreamKeyCard streamId={streamId} />
      </div>
      <div className="column">
        {channel && state && <LiveChat channel={channel} state={state} />}
        {channel && state && <ModerationPanel streamId={streamId} channel={channel} slowModeSec={state.slowModeSec} />}
        <SettingsPanel streamId={streamId} realtimeOffered={Boolean(stream.whepUrl)} />
        <StreamRecordings
          streamId={streamId}
          mayDelete={() => true}
          emptyText={{ broadcasts: "No recordings yet: with recording on, each broadcast is kept here.", clips: "No clips yet." }}
        />
      </div>
    </div>
  );
}
