import { useState, type FormEvent } from "react";
import { ApiError, errorMessage } from "../lib/api";
import { useCountdown } from "../lib/hooks";
import { CLIP_TITLE_MAX, clipLengths, createClip, replayPath } from "../lib/recordings";
import type { Recording } from "../lib/types";
import { AppLink } from "./AppLink";

/** Why the server said no, in the viewer's words (its own message where it gave one). */
function refusal(error: unknown): string {
  if (!(error instanceof ApiError)) return errorMessage(error);
  if (error.status === 401) return "Sign in to make clips.";
  if (error.status === 409) return `Cannot clip now: ${error.message}`;
  if (error.status === 429) return `Too many clips: ${error.message}`;
  return error.message;
}

/** "Clip": cut the last seconds of the live stream (its DVR window), with a title if one is
 * given. For signed-in viewers and the creator; the server decides and rate limits. */
export function ClipMaker({ streamId, maxSec, onCreated }: { streamId: string; maxSec?: number; onCreated?: (clip: Recording) => void }) {
  const lengths = clipLengths(maxSec);
  const [open, setOpen] = useState(false);
  const [seconds, setSeconds] = useState(() => lengths.includes(30) ? 30 : (lengths[lengths.length - 1] ?? 30));
  const [title, setTitle] = useState("");
  const [busy, setBusy] = useState(false);
  const [made, setMade] = useState<Recording | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [retryAt, setRetryAt] = useState<number | null>(null);
  const wait = useCountdown(retryAt);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setMade(null);
    try {
      const clip = await createClip(streamId, seconds, title);
      setMade(clip);
      setTitle("");
      setOpen(false);
      onCreated?.(clip);
    } catch (caught) {
      setError(refusal(caught));
      setRetryAt(caught instanceof ApiError && caught.status === 429 && caught.retryAfterMs ? Date.now() + caught.retryAfterMs : null);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="clip-maker" aria-label="Clip">
      {!open ? (
        <button type="button" onClick={() => setOpen(true)}>
          Clip
        </button>
      ) : (
        <form onSubmit={submit} className="clip-form">
          <fieldset disabled={busy}>
            <legend>Clip the last…</legend>
            {lengths.map((length) => (
              <label key={length} className="check">
                <input type="radio" name="clip-length" checked={seconds === length} onChange={() => setSeconds(length)} />
                {length} s
              </label>
            ))}
          </fieldset>
          <label>
            Title (optional)
            <input value={title} maxLength={CLIP_TITLE_MAX} onChange={(event) => setTitle(event.target.value)} disabled={busy} />
          </label>
          <button type="submit" className="primary" disabled={busy || wait > 0}>
            {busy ? "Cutting…" : wait > 0 ? `Create clip (in ${wait} s)` : "Create clip"}
          </button>
          <button type="button" onClick={() => setOpen(false)} disabled={busy}>
            Cancel
          </button>
        </form>
      )}
      {made && (
        <p className="notice" role="status">
          Clip ready: <AppLink href={replayPath(made.id)}>{made.title || "watch it"}</AppLink>
        </p>
      )}
      {error && (
        <p className="field-error" role="alert">
          {error}
          {wait > 0 && ` Try again in ${wait} s.`}
        </p>
      )}
    </section>
  );
}
