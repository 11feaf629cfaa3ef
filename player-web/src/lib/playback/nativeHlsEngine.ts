// HLS by the browser itself (Safari, LL-HLS included) where hls.js cannot run: the element
// gets the playlist as its source and does the rest. It offers no renditions to choose.
import type { Engine, PlaybackEngine } from "./engine";

/** The element plays on its own: there is nothing to steer, nothing to stop but its source. */
const browserPlayback: PlaybackEngine = {
  kind: "native",
  setRendition: () => undefined,
  resume: () => undefined,
  liveSyncPosition: () => null,
  latency: () => null,
  currentRendition: () => "",
  destroy: () => undefined,
};

export const nativeHlsEngine: Engine = {
  kind: "native",
  mode: "llhls",
  start: async (element, source, events, signal) => {
    if (signal.aborted || !element.canPlayType("application/vnd.apple.mpegurl")) return null;
    element.src = source.hlsUrl;
    events.onReady();
    return browserPlayback;
  },
};
