import type { StreamState } from "../lib/types";

const LABELS: Record<StreamState, string> = { live: "LIVE", preview: "PREVIEW", reconnecting: "RECONNECTING", ended: "ENDED" };

export function LiveBadge({ state, scheduled = false }: { state: StreamState; scheduled?: boolean }) {
  const label = state === "preview" && scheduled ? "SCHEDULED" : LABELS[state];
  return (
    <span className={`badge badge-${scheduled && state === "preview" ? "scheduled" : state}`} aria-label={label.toLowerCase()}>
      {label}
    </span>
  );
}
