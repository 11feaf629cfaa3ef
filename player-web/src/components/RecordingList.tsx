import { useState } from "react";
import { errorMessage } from "../lib/api";
import { formatBytes, formatClock, formatStart } from "../lib/format";
import { deleteRecording, mediaUrl, replayPath } from "../lib/recordings";
import type { Recording } from "../lib/types";
import { AppLink } from "./AppLink";
import { Picture } from "./Picture";

/** What a recording's state means to the person looking at it (nothing when complete). */
export function stateNote(recording: Recording): string | null {
  if (recording.state === "recording") return "Recording now";
  if (recording.state === "stopped") return "Stopped early: the disk failed";
  if (recording.interrupted) return "Interrupted: ends at the last complete segment";
  return null;
}

/** Past broadcasts or clips: poster, length, date, a link to watch, the MP4 download, and
 * (where `mayDelete` says) a delete behind a confirmation. The server decides; its refusal is
 * shown. */
export function RecordingList({
  recordings,
  mayDelete,
  onDeleted,
  label,
}: {
  recordings: Recording[];
  mayDelete?: (recording: Recording) => boolean;
  onDeleted?: (id: string) => void;
  /** The list's accessible name ("Past broadcasts", "Clips"). */
  label: string;
}) {
  return (
    <ul className="recording-list" aria-label={label}>
      {recordings.map((recording) => (
        <RecordingItem key={recording.id} recording={recording} canDelete={mayDelete?.(recording) ?? false} onDeleted={onDeleted} />
      ))}
    </ul>
  );
}

function RecordingItem({ recording, canDelete, onDeleted }: { recording: Recording; canDelete: boolean; onDeleted?: (id: string) => void }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const title = recording.title || (recording.kind === "clip" ? "Clip" : "Broadcast");
  const note = stateNote(recording);
  const remove = async () => {
    setBusy(true);
    setError(null);
    try {
      await deleteRecording(recording.id);
      onDeleted?.(recording.id);
    } catch (caught) {
      setError(errorMessage(caught));
      setBusy(false);
    } finally {
      setConfirming(false);
    }
  };
  return (
    <li className="recording-item" data-testid="recording-item" data-recording-id={recording.id}>
      <AppLink href={replayPath(recording.id)} className="recording-poster">
        <Picture src={mediaUrl(recording.posterUrl)} />
        <span className="duration">{formatClock(recording.durationSec)}</span>
      </AppLink>
      <div className="recording-info">
        <strong className="recording-title">{title}</strong>
        <span className="recording-meta">
          <time dateTime={recording.startedAt}>{formatStart(recording.startedAt)}</time> · {formatClock(recording.durationSec)} ·{" "}
          {formatBytes(recording.sizeBytes)}
          {recording.createdBy && <> · by {recording.createdBy}</>}
        </span>
        {note && <span className={`recording-state state-${recording.state}`}>{note}</span>}
        <span className="recording-actions">
          <AppLink href={replayPath(recording.id)}>Watch</AppLink>
          <a href={mediaUrl(recording.downloadUrl)} download>
            Download MP4
          </a>
          {canDelete &&
            (confirming ? (
              <span className="confirm" role="alertdialog" aria-label={`Delete ${title}?`}>
                Delete for good?
                <button type="button" className="danger" disabled={busy} onClick={() => void remove()}>
                  Delete
                </button>
                <button type="button" onClick={() => setConfirming(false)}>
                  Cancel
                </button>
              </span>
            ) : (
              <button type="button" className="danger" disabled={busy} onClick={() => setConfirming(true)}>
                Delete
              </button>
            ))}
        </span>
        {error && (
          <span className="field-error" role="alert">
            {error}
          </span>
        )}
      </div>
    </li>
  );
}
