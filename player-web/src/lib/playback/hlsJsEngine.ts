// LL-HLS through hls.js (loaded on first use) where Media Source Extensions exist;
// recordings (VOD) too, from their start. The full build, not the light one: only it has
// CMCD (cmcd.ts), which tells the server each request's buffer, throughput and stalls. Fatal errors go through
// RecoveryPolicy: media errors are recovered, network errors retried with backoff, anything
// else ends playback. The levels of a live stream follow the multivariant playlist as
// renditions come and go (LevelWatch).
import type { Level } from "hls.js";
import { RecoveryPolicy } from "../recovery";
import { cmcdSettings } from "./cmcd";
import type { Engine, PlaybackEngine, Rendition, StartEngine } from "./engine";
import { LevelWatch } from "./levelWatch";
import { StuckPlaybackWatch } from "./stuckPlayback";
import { menuOf, renditionName, variantLabel, type VariantInfo } from "./variants";

/** What the menu and the watch read of an hls.js level. */
export function levelVariant(level: Level): VariantInfo {
  const codecs = level.codecs || [level.videoCodec, level.audioCodec].filter(Boolean).join(",");
  return { uri: level.uri, height: level.height, frameRate: level.frameRate, bitrate: level.bitrate, codecs };
}

export function renditionLabel(level: Level): string {
  return variantLabel(levelVariant(level));
}

export function renditionsOf(levels: readonly Level[]): Rendition[] {
  return menuOf(levels.map(levelVariant));
}

const loadHlsJs = () => import("hls.js");
/** How often the playhead is checked for a stop with its picture buffered (stuckPlayback.ts). */
const STUCK_CHECK_MS = 500;

const LIVE_CONFIG = {
  lowLatencyMode: true,
  liveDurationInfinity: true,
  backBufferLength: 90,
  maxLiveSyncPlaybackRate: 1.5,
  manifestLoadingMaxRetry: 2,
} as const;

/** A recording starts at its beginning, and its duration is what is recorded so far (an
 * EVENT playlist, still growing, would otherwise start at its end and last forever). */
const RECORDING_CONFIG = {
  startPosition: 0,
  lowLatencyMode: false,
  liveDurationInfinity: false,
  backBufferLength: 90,
  manifestLoadingMaxRetry: 2,
} as const;

const start: StartEngine = async (element, source, events, signal) => {
  const { default: Hls } = await loadHlsJs();
  if (signal.aborted || !Hls.isSupported()) return null;
  const policy = new RecoveryPolicy();
  let retry: ReturnType<typeof setTimeout> | null = null;
  /** The viewer's choice (a media playlist), kept across reloads while it exists. */
  let chosen: string | null = null;
  const cmcd = cmcdSettings(source.contentId, source.hlsUrl);
  let hls: InstanceType<typeof Hls> | null = new Hls({ ...(source.vod ? RECORDING_CONFIG : LIVE_CONFIG), ...(cmcd ? { cmcd } : {}) });
  const levelIndex = (id: string | null) => (id === null || !hls ? -1 : hls.levels.findIndex((level) => level.uri === id));
  const tellRenditions = () => {
    if (!hls) return;
    const renditions = renditionsOf(hls.levels);
    if (chosen !== null && !renditions.some((rendition) => rendition.id === chosen)) chosen = null;
    events.onRenditions(renditions);
  };
  const watch = new LevelWatch(
    {
      levelUris: () => hls?.levels.map((level) => level.uri) ?? [],
      playingLevel: () => (hls ? (hls.currentLevel >= 0 ? hls.currentLevel : hls.loadLevel) : -1),
      removeLevel: (index) => hls?.removeLevel(index),
      reload: () => hls?.loadSource(source.hlsUrl),
    },
    new URL(source.hlsUrl, window.location.href).href,
    tellRenditions,
  );
  const stuck = new StuckPlaybackWatch(element);
  const stuckTimer = setInterval(() => stuck.check(), STUCK_CHECK_MS);
  const stop = () => {
    if (retry) clearTimeout(retry);
    retry = null;
    clearInterval(stuckTimer);
    watch.stop();
    hls?.destroy();
    hls = null;
  };

  hls.on(Hls.Events.MANIFEST_PARSED, () => {
    tellRenditions();
    const index = levelIndex(chosen);
    if (index >= 0 && hls) hls.currentLevel = index;
    events.onReady();
  });
  hls.on(Hls.Events.LEVELS_UPDATED, tellRenditions);
  hls.on(Hls.Events.LEVEL_LOADED, (_event, data) => {
    // EXT-X-ENDLIST while the page still plays: the rendition may be gone, not the stream.
    if (!data.details.live && !source.vod) void watch.levelEnded(data.level);
  });
  hls.on(Hls.Events.FRAG_LOADED, () => policy.onProgress());
  hls.on(Hls.Events.ERROR, (_event, data) => {
    if (!data.fatal || !hls) return;
    if (data.details === Hls.ErrorDetails.MANIFEST_INCOMPATIBLE_CODECS_ERROR) {
      // No retry can help: this browser's MSE plays none of the stream's codecs.
      stop();
      events.onHandOver("hlsjs");
      return;
    }
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
  // A recording's renditions are fixed: nothing comes or goes under it.
  if (!source.vod) watch.start();

  const engine: PlaybackEngine = {
    kind: "hlsjs",
    setRendition: (id) => {
      chosen = id;
      if (hls) hls.currentLevel = levelIndex(id); // -1 gives control back to ABR
    },
    resume: () => {
      if (!hls) return;
      if (retry) clearTimeout(retry);
      retry = null;
      policy.onProgress();
      hls.startLoad();
    },
    liveSyncPosition: () => hls?.liveSyncPosition ?? null,
    latency: () => (hls && Number.isFinite(hls.latency) && hls.latency > 0 ? hls.latency : null),
    currentRendition: () => {
      const level = hls && hls.currentLevel >= 0 ? hls.levels[hls.currentLevel] : undefined;
      return level ? renditionName(level.uri) || renditionLabel(level) : "";
    },
    throughput: () => (hls && Number.isFinite(hls.bandwidthEstimate) && hls.bandwidthEstimate > 0 ? hls.bandwidthEstimate : null),
    destroy: stop,
  };
  return engine;
};

export const hlsJsEngine: Engine = {
  kind: "hlsjs",
  mode: "llhls",
  start,
  preload: () => void loadHlsJs(),
};
