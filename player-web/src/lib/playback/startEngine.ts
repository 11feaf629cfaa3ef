// The one place that decides which engine plays a stream: the first of ENGINES that can
// play the source in this browser. A WebRTC engine goes into this list, before hls.js.
import type { Engine, EngineEvents, PlaybackEngine, PlaybackSource } from "./engine";
import { hlsJsEngine } from "./hlsJsEngine";
import { nativeHlsEngine } from "./nativeHlsEngine";

export const ENGINES: readonly Engine[] = [hlsJsEngine, nativeHlsEngine];

/** Fetch the engines' code while the page is still busy with other things. */
export function preloadEngines(): void {
  for (const engine of ENGINES) engine.preload?.();
}

export const UNSUPPORTED = "This browser cannot play the stream.";

/** The engine now playing `source` on `element`, or null (aborted, or none can play it:
 * then `events.onFailed` was told). */
export async function startEngine(
  element: HTMLVideoElement,
  source: PlaybackSource,
  events: EngineEvents,
  signal: AbortSignal,
): Promise<PlaybackEngine | null> {
  for (const { start } of ENGINES) {
    const engine = await start(element, source, events, signal);
    if (signal.aborted) {
      engine?.destroy();
      return null;
    }
    if (engine) return engine;
  }
  events.onFailed(UNSUPPORTED);
  return null;
}
