import { useState } from "react";
import { api, errorMessage } from "../lib/api";
import type { StreamDetail, StreamState } from "../lib/types";
import { LiveBadge } from "./LiveBadge";
import { LivePlayer } from "./LivePlayer";

/** preview -> live -> (reconnecting ->) ended, with the preview player while there is
 * something to show. */
export function StatusControl({ stream, state, onChanged }: { stream: StreamDetail; state: StreamState; onChanged: (stream: StreamDetail) => void }) {
  const [error, setError] = useState<string | null>(null);
  const [confirmEnd, setConfirmEnd] = useState(false);
  const [busy, setBusy] = useState(false);
  const change = async (next: "live" | "ended") => {
    setBusy(true);
    setError(null);
    setConfirmEnd(false);
    try {
      onChanged(await api<StreamDetail>(`/api/streams/${encodeURIComponent(stream.id)}/state`, { method: "PUT", body: { state: next } }));
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setBusy(false);
    }
  };
  const hlsPath = new URL(stream.hlsUrl, window.location.origin).pathname;
  return (
    <section className="card status-control" aria-labelledby="status-title">
      <h2 id="status-title">
        Status <LiveBadge state={state} />
      </h2>
      {state !== "ended" ? (
        <div className="preview-player">
          <LivePlayer src={hlsPath} streamId={stream.id} report={false} streamState={state} title={stream.title} posterUrl={stream.posterUrl} />
        </div>
      ) : (
        <p>The stream has ended. Start your encoder again to begin a new broadcast in preview.</p>
      )}
      {state === "reconnecting" && (
        <p className="notice" role="status">
          Your encoder disconnected. Viewers keep the last picture while the stream waits for it; start it again
          to continue the broadcast, or end the stream.
        </p>
      )}
      <div className="actions">
        {state === "preview" && (
          <button type="button" className="primary" disabled={busy} onClick={() => void change("live")}>
            Go live
          </button>
        )}
        {state !== "ended" &&
          (confirmEnd ? (
            <span className="confirm" role="alertdialog" aria-label="End the stream?">
              End the stream for everyone?
              <button type="button" className="danger" onClick={() => void change("ended")}>
                End stream
              </button>
              <button type="button" onClick={() => setConfirmEnd(false)}>
                Cancel
              </button>
            </span>
          ) : (
            <button type="button" className="danger" disabled={busy} onClick={() => setConfirmEnd(true)}>
              End…
            </button>
          ))}
      </div>
      {error && (
        <p className="notice" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
