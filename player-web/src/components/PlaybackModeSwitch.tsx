import type { PlaybackMode } from "../lib/playback/engine";
import { MODE_LABELS } from "../lib/playback/playbackMode";

const MODES: readonly PlaybackMode[] = ["realtime", "llhls"];
const HINTS: Record<PlaybackMode, string> = {
  realtime: "WebRTC: well under a second behind the streamer",
  llhls: "Low-latency HLS: a few seconds behind, with quality choice and rewind",
};

/** The viewer's choice between Real-time and LL-HLS; `mode` is the one playing now. */
export function PlaybackModeSwitch({ mode, onChoose }: { mode: PlaybackMode; onChoose: (mode: PlaybackMode) => void }) {
  return (
    <div className="mode-switch" role="group" aria-label="Playback mode" data-testid="mode-switch">
      {MODES.map((option) => (
        <button
          key={option}
          type="button"
          aria-pressed={option === mode}
          title={HINTS[option]}
          onClick={() => {
            if (option !== mode) onChoose(option);
          }}
        >
          {MODE_LABELS[option]}
        </button>
      ))}
    </div>
  );
}

/** Which engine plays: what the viewer (and an e2e test) reads of the mode. */
export function EngineBadge({ mode }: { mode: PlaybackMode }) {
  return (
    <span className={`engine-badge engine-${mode}`} data-testid="engine-badge" data-mode={mode}>
      {MODE_LABELS[mode]}
    </span>
  );
}

/** The latency figure, labelled for what it measures in each mode. */
export function LatencyReadout({ mode, seconds }: { mode: PlaybackMode; seconds: number }) {
  const shown = seconds < 10 ? seconds.toFixed(2) : seconds.toFixed(0);
  return mode === "realtime" ? (
    <span className="latency" data-testid="latency" title="Estimated from WebRTC statistics: jitter buffer plus half the network round trip (the streamer's encoder not included)">
      ≈{shown} s network + buffer
    </span>
  ) : (
    <span className="latency" data-testid="latency" title="How far playback is behind the live edge of the LL-HLS playlist">
      {shown} s behind live
    </span>
  );
}
