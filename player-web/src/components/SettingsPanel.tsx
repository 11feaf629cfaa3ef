import { useState, type FormEvent } from "react";
import { api, ApiError, errorMessage } from "../lib/api";
import type { Settings } from "../lib/types";
import { useResource } from "../lib/useResource";

interface Draft {
  dvrWindowSec: string;
  ageRestricted: boolean;
  watermark: boolean;
  slowModeSec: string;
  guestsMayChat: boolean;
  blockedWords: string;
  realtimePlayback: boolean;
  record: boolean;
  /** Empty: the server's default. */
  recordKeepDays: string;
  replaysPublic: boolean;
}

function toDraft(settings: Settings): Draft {
  return {
    ...settings,
    dvrWindowSec: String(settings.dvrWindowSec),
    slowModeSec: String(settings.slowModeSec),
    blockedWords: settings.blockedWords.join(", "),
    recordKeepDays: settings.recordKeepDays == null ? "" : String(settings.recordKeepDays),
  };
}

/** The server validates; its message for each field is shown beside that field.
 * `realtimeOffered`: the server serves WebRTC (else the real-time default does nothing). */
export function SettingsPanel({ streamId, realtimeOffered = true }: { streamId: string; realtimeOffered?: boolean }) {
  const path = `/api/streams/${encodeURIComponent(streamId)}/settings`;
  const settings = useResource(path, (signal) => api<Settings>(path, { signal }));
  // The form starts from what the server holds; edits live here until saved.
  const [edited, setEdited] = useState<Draft | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [status, setStatus] = useState<string | null>(null);
  const draft = edited ?? (settings.status === "ready" ? toDraft(settings.value) : null);
  if (!draft) {
    return (
      <section className="card" aria-busy="true">
        {settings.status === "failed" ? errorMessage(settings.error) : null}
      </section>
    );
  }

  const number = (value: string) => (/^-?\d+$/.test(value.trim()) ? Number(value) : value);
  const save = async (event: FormEvent) => {
    event.preventDefault();
    setErrors({});
    setStatus(null);
    try {
      const saved = await api<Settings>(path, {
        method: "PATCH",
        body: {
          dvrWindowSec: number(draft.dvrWindowSec),
          ageRestricted: draft.ageRestricted,
          watermark: draft.watermark,
          slowModeSec: number(draft.slowModeSec),
          guestsMayChat: draft.guestsMayChat,
          blockedWords: draft.blockedWords.split(",").map((word) => word.trim()).filter(Boolean),
          realtimePlayback: draft.realtimePlayback,
          record: draft.record,
          recordKeepDays: draft.recordKeepDays.trim() === "" ? null : number(draft.recordKeepDays),
          replaysPublic: draft.replaysPublic,
        },
      });
      settings.set(saved);
      setEdited(null);
      setStatus("Saved.");
    } catch (caught) {
      if (caught instanceof ApiError && caught.fields) setErrors(caught.fields);
      setStatus(errorMessage(caught));
    }
  };
  const field = (name: keyof Draft) => (errors[name] ? <span className="field-error" role="alert">{errors[name]}</span> : null);
  const set = <K extends keyof Draft>(name: K, value: Draft[K]) => setEdited({ ...draft, [name]: value });
  return (
    <form className="card settings-panel" onSubmit={save} aria-labelledby="settings-title" noValidate>
      <h2 id="settings-title">Settings</h2>
      <label>
        DVR window (seconds, 0-7200)
        <input inputMode="numeric" value={draft.dvrWindowSec} onChange={(e) => set("dvrWindowSec", e.target.value)} />
        {field("dvrWindowSec")}
      </label>
      <label>
        Slow mode (seconds between messages, 0 = off)
        <input inputMode="numeric" value={draft.slowModeSec} onChange={(e) => set("slowModeSec", e.target.value)} />
        {field("slowModeSec")}
      </label>
      <label className="check">
        <input type="checkbox" checked={draft.ageRestricted} onChange={(e) => set("ageRestricted", e.target.checked)} />
        Age-restricted (18+)
      </label>
      <label className="check">
        <input type="checkbox" checked={draft.watermark} onChange={(e) => set("watermark", e.target.checked)} />
        Watermark with my handle (from the next broadcast)
      </label>
      <label className="check">
        <input type="checkbox" checked={draft.guestsMayChat} onChange={(e) => set("guestsMayChat", e.target.checked)} />
        Guests may chat
      </label>
      <label className="check">
        <input
          type="checkbox"
          checked={draft.realtimePlayback}
          aria-describedby="realtime-hint"
          onChange={(e) => set("realtimePlayback", e.target.checked)}
        />
        Real-time playback by default
      </label>
      <small id="realtime-hint" className="hint">
        {realtimeOffered
          ? "Viewers start on WebRTC (under a second behind you) where their browser can, and fall back to LL-HLS; each viewer may switch."
          : "This server has WebRTC turned off: viewers watch LL-HLS whatever this says."}
      </small>
      <fieldset className="recording-settings">
        <legend>Recordings</legend>
        <label className="check">
          <input type="checkbox" checked={draft.record} onChange={(e) => set("record", e.target.checked)} />
          Record my broadcasts
        </label>
        <label>
          Keep recordings (days; empty: the server&apos;s default, 0: until I delete them)
          <input inputMode="numeric" value={draft.recordKeepDays} onChange={(e) => set("recordKeepDays", e.target.value)} />
          {field("recordKeepDays")}
        </label>
        <label className="check">
          <input
            type="checkbox"
            checked={draft.replaysPublic}
            aria-describedby="replays-hint"
            onChange={(e) => set("replaysPublic", e.target.checked)}
          />
          Replays and clips are public
        </label>
        <small id="replays-hint" className="hint">
          {draft.replaysPublic
            ? "Anyone can watch and download them; recent replays are listed on the front page."
            : "Only you, admins and your moderators see them."}
        </small>
      </fieldset>
      <label>
        Blocked words (comma-separated)
        <textarea value={draft.blockedWords} onChange={(e) => set("blockedWords", e.target.value)} rows={2} />
        {field("blockedWords")}
      </label>
      <button type="submit" className="primary">
        Save settings
      </button>
      {status && <p className="notice">{status}</p>}
    </form>
  );
}
