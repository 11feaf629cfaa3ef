// LL-HLS through hls.js (its light build, loaded on first use) where Media Source
// Extensions exist. Fatal errors go through RecoveryPolicy: media errors are recovered,
// network errors retried with backoff, anything else ends playback.
import type { Level } from "hls.js";
import { RecoveryPolicy } from "../recovery";
import type { Engine, PlaybackEngine, StartEngine } from "./engine";

export function renditionLabel(level: Level): string {
  return level.height ? `${level.height}p` : `${Math.round(level.bitrate / 1000)} kbit/s`;
}

const loadHlsJs = () => import("hls.js/light");

const start: StartEngine = async (element, source, events, signal) => {
  const { default: Hls } = await loadHlsJs();
  if (signal.aborted || !Hls.isSupported()) return null;
  const policy = new RecoveryPolicy();
  let retry: ReturnType<typeof setTimeout> | null = null;
  let hls: InstanceType<typeof Hls> | null = new Hls({
    lowLatencyMode: true,
    liveDurationInfinity: true,
    backBufferLength: 90,
    maxLiveSyncPlaybackRate: 1.5,
    manifestLoadingMaxRetry: 2,
  });
  const stop = () => {
    if (retry) clearTimeout(retry);
    retry = null;
    hls?.destroy();
    hls = null;
  };

  hls.on(Hls.Events.MANIFEST_PARSED, (_event, data) => {
    events.onRenditions(
      data.levels
        .map((level, index) => ({ index, label: renditionLabel(level), height: level.height }))
        .sort((a, b) => b.height - a.height)
        .map(({ index, label }) => ({ index, label })),
    );
    events.onReady();
  });
  hls.on(Hls.Events.FRAG_LOADED, () => policy.onProgress());
  hls.on(Hls.Events.ERROR, (_event, data) => {
    if (!data.fatal || !hls) return;
    const type =
      data.type === Hls.ErrorTypes.MEDIA_ERROR ? "media" : data.type === Hls.ErrorTypes.NETWORK_ERROR ? "network" : "other";
    const action = policy.onFatal(type, performance.now());
    if (action.kind === "recoverMedia") {
      hls.recoverMediaError();
    } else if (action.kind === "retryNetwork") {
      retry = setTimeout(() => hls?.startLoad(), action.delayMs);
    } else {
      stop();
      events.onFailed(`Playback stopped: ${action.reason}.`);
    }
  });
  hls.loadSource(source.hlsUrl);
  hls.attachMedia(element);

  const engine: PlaybackEngine = {
    setRendition: (index) => {
      if (hls) hls.currentLevel = index; // -1 gives control back to ABR
    },
    liveSyncPosition: () => hls?.liveSyncPosition ?? null,
    latency: () => (hls && Number.isFinite(hls.latency) && hls.latency > 0 ? hls.latency : null),
    currentRendition: () => {
      const level = hls && hls.currentLevel >= 0 ? hls.levels[hls.currentLevel] : undefined;
      return level ? renditionLabel(level) : "";
    },
    destroy: stop,
  };
  return engine;
};

export const hlsJsEngine: Engine = {
  start,
  preload: () => void loadHlsJs(),
};
