// A playhead that stopped with the picture it needs already buffered. WebKitGTK's media
// pipeline has been seen to stop so at a live stream's start (readyState 1, the playhead at
// hls.js's start position, 30 s buffered past it, for good), and hls.js leaves it be: it
// waits on a seek that lands in its buffer, and nudges a stall only a few tenths of a second
// before it gives up. A seek of its own, past where the playhead stopped, starts the pipeline
// again; the viewer loses a moment of a live stream, not the stream.

/** The element as the watch reads it (an HTMLVideoElement). */
export interface Playhead {
  readonly paused: boolean;
  readonly ended: boolean;
  readonly readyState: number;
  readonly buffered: TimeRanges;
  currentTime: number;
}

/** Stopped this long with data ahead counts as stuck (hls.js's own stall detection waits 1.25 s). */
export const STUCK_AFTER_MS = 3000;
/** Buffered past the playhead for it to count as stuck, not waiting for data. */
export const STUCK_BUFFER_S = 1;
/** How far past the stopped playhead the watch seeks. */
export const RESEEK_STEP_S = 0.1;
const HAVE_FUTURE_DATA = 3;

export class StuckPlaybackWatch {
  private lastTime = Number.NaN;
  private since = 0;
  reseeks = 0;

  constructor(
    private readonly element: Playhead,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Called every few hundred ms: seeks on from a playhead stuck for STUCK_AFTER_MS. */
  check(): void {
    const { element } = this;
    const time = element.currentTime;
    const now = this.now();
    if (time !== this.lastTime || !this.stuckHere(time)) {
      this.lastTime = time;
      this.since = now;
      return;
    }
    if (now - this.since < STUCK_AFTER_MS) return;
    this.reseeks += 1;
    element.currentTime = time + RESEEK_STEP_S;
    this.lastTime = element.currentTime;
    this.since = now;
  }

  private stuckHere(time: number): boolean {
    const { element } = this;
    if (element.paused || element.ended || element.readyState >= HAVE_FUTURE_DATA) return false;
    const { buffered } = element;
    for (let i = 0; i < buffered.length; i += 1) {
      if (buffered.start(i) <= time && buffered.end(i) - time >= STUCK_BUFFER_S) return true;
    }
    return false;
  }
}
