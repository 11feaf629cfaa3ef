// The one place that decides which engine plays a stream: the first of ENGINES of the mode
// asked for that can play the source in this browser.
import type { Engine, EngineEvents, EngineKind, PlaybackEngine, PlaybackMode, PlaybackSource } from "./engine";
import { hlsJsEngine } from "./hlsJsEngine";
import { nativeHlsEngine } from "./nativeHlsEngine";
import { webrtcEngine } from "./webrtcEngine";

export const ENGINES: readonly Engine[] = [webrtcEngine, hlsJsEngine, nativeHlsEngine];

/** Fetch the engines' code while the page is still busy with other things. */
export function preloadEngines(): void {
  for (const engine of ENGINES) engine.preload?.();
}

export const UNSUPPORTED = "This browser cannot play the stream.";

/** The engine now playing `source` on `element` in `mode`, or null (aborted, or none can
 * play it: then `events.onFailed` was told). Engines in `passedOver` handed the source over
 * (EngineEvents.onHandOver) and are not asked again. */
export async function startEngine(
  element: HTMLVideoElement,
  source: PlaybackSource,
  events: EngineEvents,
  signal: AbortSignal,
  mode: PlaybackMode = "llhls",
  passedOver: readonly EngineKind[] = [],
): Promise<PlaybackEngine | null> {
  for (const { start } of ENGINES.filter((engine) => engine.mode === mode && !passedOver.includes(engine.kind))) {
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
