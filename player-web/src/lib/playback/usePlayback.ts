import { useCallback, useEffect, useRef, useState, type RefObject } from "react";
import type { EngineKind, PlaybackEngine, PlaybackMode, PlaybackSource, Rendition } from "./engine";
import { watchFirstFrame } from "./firstFrame";
import { canPlayRealtime, fallbackNotice } from "./playbackMode";
import { startEngine } from "./startEngine";

export type PlaybackStatus = "loading" | "playing" | "ended" | "error";

/** When a playback attempt started and when its first frame was shown (performance.now()). */
export interface FirstFrame {
  startedAt: number;
  at: number;
}

export interface Playback {
  status: PlaybackStatus;
  /** Why playback stopped, for the viewer (status "error"). */
  error: string | null;
  renditions: Rendition[];
  /** The rendition chosen (its id), null for automatic. */
  rendition: string | null;
  chooseRendition: (id: string | null) => void;
  /** The stream has sound and no picture (the player shows its audio view). */
  audioOnly: boolean;
  /** Start over (the Retry button). */
  retry: () => void;
  /** The stream is back after its publisher reconnected: load now (start over if playback
   * had stopped meanwhile). */
  resume: () => void;
  /** Null until the current attempt shows its first frame. */
  firstFrame: FirstFrame | null;
  /** Where live playback should sit, when the engine knows. */
  liveSyncPosition: () => number | null;
  /** Seconds behind the live edge: the engine's estimate, else the element's seekable end. */
  latency: () => number | null;
  currentRendition: () => string;
  /** The throughput the engine measured (bits per second), null where it measures none. */
  throughput: () => number | null;
  /** The mode playing (or starting) now. */
  mode: PlaybackMode;
  /** The engine playing now (which path startEngine took here); null while none is. */
  engine: EngineKind | null;
  /** Whether Real-time can be chosen here (the server offers it, the browser has WebRTC). */
  realtimeAvailable: boolean;
  /** The viewer's switch; it starts the stream over in that mode. */
  chooseMode: (mode: PlaybackMode) => void;
  /** Why Real-time gave way to LL-HLS, for the viewer; null otherwise. */
  fallback: string | null;
}

const NONE: readonly EngineKind[] = [];

/** How far `element` plays behind the end of what it may seek to. */
function seekableLatency(element: HTMLVideoElement): number | null {
  const seekable = element.seekable;
  return seekable.length ? Math.max(0, seekable.end(seekable.length - 1) - element.currentTime) : null;
}

/** Plays `source` on the video element with the engine startEngine picks for the mode, from
 * mount (or a new source, a retry, a mode switch) until unmount: status, renditions, the first
 * frame. It starts in `preferred` where it can; a Real-time failure falls back to LL-HLS and
 * says why. `play` starts the element once the engine is ready (it owns muting). `source`
 * must keep its identity while it means the same stream. */
export function usePlayback(
  video: RefObject<HTMLVideoElement | null>,
  source: PlaybackSource,
  play: () => void,
  preferred: PlaybackMode = "llhls",
): Playback {
  const realtimeAvailable = canPlayRealtime(source);
  const [chosenMode, setChosenMode] = useState<PlaybackMode>(preferred);
  const [fallback, setFallback] = useState<string | null>(null);
  const mode: PlaybackMode = chosenMode === "realtime" && realtimeAvailable ? "realtime" : "llhls";
  const [status, setStatus] = useState<PlaybackStatus>("loading");
  const [error, setError] = useState<string | null>(null);
  const [renditions, setRenditions] = useState<Rendition[]>([]);
  const [rendition, setRendition] = useState<string | null>(null);
  const [audioFirst, setAudioFirst] = useState(false);
  const [firstFrame, setFirstFrame] = useState<FirstFrame | null>(null);
  const [attempt, setAttempt] = useState(0);
  const [engineKind, setEngineKind] = useState<EngineKind | null>(null);
  /** Engines that handed this source over: the next attempt starts past them. */
  const [passedOver, setPassedOver] = useState<{ source: PlaybackSource; kinds: EngineKind[] }>({ source, kinds: [] });
  const skipped = passedOver.source === source ? passedOver.kinds : NONE;
  const engine = useRef<PlaybackEngine | null>(null);
  const latestPlay = useRef(play);
  useEffect(() => {
    latestPlay.current = play;
  });

  useEffect(() => {
    const element = video.current;
    if (!element) return;
    const startedAt = performance.now();
    const abort = new AbortController();
    let failed = false;
    setStatus("loading");
    setError(null);
    setFirstFrame(null);
    setAudioFirst(false);
    setEngineKind(null);
    const stopWatching = watchFirstFrame(element, (media) => {
      setFirstFrame({ startedAt, at: performance.now() });
      setAudioFirst(media === "audio");
      setStatus("playing");
    });
    const onEnded = () => setStatus("ended");
    element.addEventListener("ended", onEnded);
    void startEngine(
      element,
      source,
      {
        onRenditions: (offered) => {
          setRenditions(offered);
          // A choice that no longer exists falls back to automatic (the engine did too).
          setRendition((chosen) => (chosen !== null && offered.some((r) => r.id === chosen) ? chosen : null));
        },
        onReady: () => latestPlay.current(),
        onHandOver: (kind) => {
          failed = true;
          engine.current = null;
          setEngineKind(null);
          setPassedOver({ source, kinds: [...skipped, kind] });
        },
        onFailed: (message) => {
          failed = true;
          engine.current = null;
          setEngineKind(null);
          if (mode === "realtime") {
            setFallback(fallbackNotice(message));
            setChosenMode("llhls");
            return;
          }
          setStatus("error");
          setError(message);
        },
      },
      abort.signal,
      mode,
      skipped,
    ).then((started) => {
      if (!started || abort.signal.aborted || failed) return;
      engine.current = started;
      setEngineKind(started.kind);
    });
    return () => {
      abort.abort();
      stopWatching();
      element.removeEventListener("ended", onEnded);
      engine.current?.destroy();
      engine.current = null;
      element.removeAttribute("src");
      element.load();
    };
  }, [video, source, attempt, mode, skipped]);

  const chooseRendition = useCallback((id: string | null) => {
    setRendition(id);
    engine.current?.setRendition(id);
  }, []);
  const retry = useCallback(() => setAttempt((n) => n + 1), []);
  const chooseMode = useCallback((next: PlaybackMode) => {
    setFallback(null);
    setChosenMode(next);
  }, []);
  const stopped = status === "error" || status === "ended";
  const resume = useCallback(() => {
    if (stopped || !engine.current) setAttempt((n) => n + 1);
    else engine.current.resume();
  }, [stopped]);
  const audioOnly = audioFirst || (renditions.length > 0 && renditions.every((r) => r.audioOnly));
  const liveSyncPosition = useCallback(() => engine.current?.liveSyncPosition() ?? null, []);
  const latency = useCallback(() => {
    const element = video.current;
    return engine.current?.latency() ?? (element ? seekableLatency(element) : null);
  }, [video]);
  const currentRendition = useCallback(() => engine.current?.currentRendition() ?? "", []);
  const throughput = useCallback(() => engine.current?.throughput?.() ?? null, []);

  return {
    status,
    error,
    renditions,
    rendition,
    chooseRendition,
    audioOnly,
    retry,
    resume,
    firstFrame,
    liveSyncPosition,
    latency,
    currentRendition,
    throughput,
    mode,
    engine: engineKind,
    realtimeAvailable,
    chooseMode,
    fallback,
  };
}
