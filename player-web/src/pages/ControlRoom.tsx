import { useCallback, useEffect, useState } from "react";
import { ErrorBoundary } from "../components/ErrorBoundary";
import { HealthPanel } from "../components/HealthPanel";
import { LiveChat } from "../components/LiveChat";
import { ModerationPanel } from "../components/ModerationPanel";
import { SettingsPanel } from "../components/SettingsPanel";
import { SignIn } from "../components/SignIn";
import { StatusControl } from "../components/StatusControl";
import { StreamKeyCard } from "../components/StreamKeyCard";
import { api, ApiError } from "../lib/api";
import { navigate } from "../lib/router";
import type { StreamCard, StreamDetail, User } from "../lib/types";
import { useChannel } from "../lib/useChannel";

interface Me {
  user: User;
  streams: StreamCard[];
  moderates: string[];
}

type Session = { status: "loading" } | { status: "signedOut" } | { status: "signedIn"; me: Me };

export function ControlRoom({ streamId }: { streamId: string | null }) {
  const [session, setSession] = useState<Session>({ status: "loading" });
  const loadMe = useCallback(async () => {
    try {
      setSession({ status: "signedIn", me: await api<Me>("/api/me") });
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) setSession({ status: "signedOut" });
      else throw error;
    }
  }, []);
  useEffect(() => {
    void loadMe();
  }, [loadMe]);

  if (session.status === "loading") return <main className="control-room" aria-busy="true" />;
  if (session.status === "signedOut") {
    return (
      <main className="control-room">
        <SignIn onSignedIn={() => void loadMe()} />
      </main>
    );
  }
  const { me } = session;
  const chosen = streamId ?? me.streams[0]?.id ?? null;
  const signOut = async () => {
    await api("/api/auth/logout", { method: "POST", refresh: false }).catch(() => undefined);
    setSession({ status: "signedOut" });
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
  const [stream, setStream] = useState<StreamDetail | null>(null);
  const [channel, state] = useChannel(streamId);
  useEffect(() => {
    api<StreamDetail>(`/api/streams/${encodeURIComponent(streamId)}`).then(setStream, () => setStream(null));
  }, [streamId]);
  if (!stream) return <div aria-busy="true" />;
  const current = state?.streamState ?? stream.state;
  return (
    <div className="room-grid">
      <div className="column">
        <StatusControl stream={stream} state={current} onChanged={setStream} />
        <HealthPanel streamId={streamId} live={state?.health ?? null} />
        <StreamKeyCard streamId={streamId} />
      </div>
      <div className="column">
        {channel && state && <LiveChat channel={channel} state={state} />}
        {channel && state && <ModerationPanel streamId={streamId} channel={channel} slowModeSec={state.slowModeSec} />}
        <SettingsPanel streamId={streamId} />
      </div>
    </div>
  );
}
