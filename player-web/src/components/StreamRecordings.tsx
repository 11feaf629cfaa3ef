import { useEffect } from "react";
import { ApiError, errorMessage } from "../lib/api";
import { streamClips, streamRecordings } from "../lib/recordings";
import type { Recording } from "../lib/types";
import { useResource, type Resource } from "../lib/useResource";
import { RecordingList } from "./RecordingList";

/** The server keeps this list from the one asking (a stream's private replays). */
function withheld(error: unknown): boolean {
  return error instanceof ApiError && (error.status === 401 || error.status === 403 || error.status === 404);
}

const nobody = () => false;

/** A stream's past broadcasts and clips, as its page and its control room show them. Who may
 * delete what is the server's to decide; `mayDelete` only says where to offer it.
 * `clipsRevision`: a new value loads the clips again (one was just cut). */
export function StreamRecordings({
  streamId,
  mayDelete = nobody,
  clipsRevision = 0,
  emptyText,
}: {
  streamId: string;
  mayDelete?: (recording: Recording) => boolean;
  clipsRevision?: number;
  /** Said when there is nothing; without it an empty list is not shown at all. */
  emptyText?: { broadcasts: string; clips: string };
}) {
  const key = encodeURIComponent(streamId);
  const broadcasts = useResource(`/api/streams/${key}/recordings`, (signal) => streamRecordings(streamId, signal));
  const clips = useResource(`/api/streams/${key}/clips`, (signal) => streamClips(streamId, signal));
  const reloadClips = clips.reload;
  useEffect(() => {
    if (clipsRevision > 0) void reloadClips();
  }, [clipsRevision, reloadClips]);
  return (
    <>
      <RecordingSection heading="Past broadcasts" list={broadcasts} mayDelete={mayDelete} empty={emptyText?.broadcasts} />
      <RecordingSection heading="Clips" list={clips} mayDelete={mayDelete} empty={emptyText?.clips} />
    </>
  );
}

function RecordingSection({
  heading,
  list,
  mayDelete,
  empty,
}: {
  heading: string;
  list: Resource<Recording[]>;
  mayDelete: (recording: Recording) => boolean;
  empty: string | undefined;
}) {
  if (list.status === "loading") return null;
  if (list.status === "failed") {
    if (withheld(list.error)) return null;
    return (
      <section className="card recordings" aria-label={heading}>
        <h2>{heading}</h2>
        <div className="error-box" role="alert">
          <p>Could not load them: {errorMessage(list.error)}</p>
          <button type="button" onClick={() => void list.reload()}>
            Retry
          </button>
        </div>
      </section>
    );
  }
  if (list.value.length === 0 && empty === undefined) return null;
  const drop = (id: string) => list.set(list.value.filter((recording) => recording.id !== id));
  return (
    <section className="card recordings" aria-label={heading}>
      <h2>{heading}</h2>
      {list.value.length === 0 ? (
        <p className="empty">{empty}</p>
      ) : (
        <RecordingList label={heading} recordings={list.value} mayDelete={mayDelete} onDeleted={drop} />
      )}
    </section>
  );
}
