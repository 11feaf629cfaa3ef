import { formatBytes, formatClock } from "../lib/format";
import type { RecordingHealth } from "../lib/messages";
import { replayPath } from "../lib/recordings";
import { AppLink } from "./AppLink";

/** The broadcast's recording as the health messages tell it: running (length, size), behind
 * (segments the disk could not keep), or stopped (a full or failing disk: the live stream
 * goes on). Nothing while the broadcast is not recorded. */
export function RecordingStatus({ recording }: { recording: RecordingHealth | null }) {
  if (!recording) return null;
  const stopped = recording.state === "stopped";
  const warning = recording.warning ?? (recording.skippedSegments > 0 ? "The disk is slower than the stream." : null);
  return (
    <section className={`card recording-status${warning ? " warn" : ""}`} aria-labelledby="recording-status-title">
      <h2 id="recording-status-title">{stopped ? "Recording stopped" : "Recording"}</h2>
      <p>
        <AppLink href={replayPath(recording.recordingId)}>{formatClock(recording.durationSec)}</AppLink> · {formatBytes(recording.sizeBytes)}
        {recording.skippedSegments > 0 && <> · {recording.skippedSegments} segments skipped</>}
      </p>
      {warning && (
        <p className="notice" role={stopped ? "alert" : "status"}>
          {warning}
          {stopped && " Viewers still watch live; the recording so far is kept."}
        </p>
      )}
    </section>
  );
}
