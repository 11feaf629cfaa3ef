// What a viewer lives through on a <video>: stalls (the picture stopped for want of data)
// and the time it spent playing, taken in slices, one per quality report; and how much is
// buffered ahead. A seek's wait is no stall; neither is anything before playback began.

export interface QualitySlice {
  stalls: number;
  watchedMs: number;
}

/** Seconds buffered ahead of the playhead, null with nothing buffered there. */
export function bufferAhead(element: HTMLVideoElement): number | null {
  const { buffered, currentTime } = element;
  for (let index = 0; index < buffered.length; index += 1) {
    if (buffered.start(index) <= currentTime + 0.1 && currentTime <= buffered.end(index)) {
      return Math.max(0, buffered.end(index) - currentTime);
    }
  }
  return null;
}

export class PlaybackQuality {
  private stalls = 0;
  private watchedMs = 0;
  private playingSince: number | null = null;
  private played = false;
  private readonly listeners: [string, () => void][];

  constructor(
    private readonly element: HTMLVideoElement,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.listeners = [
      ["playing", this.onPlaying],
      ["waiting", this.onWaiting],
      ["pause", this.close],
      ["seeking", this.close],
      ["ended", this.close],
    ];
    for (const [name, listener] of this.listeners) element.addEventListener(name, listener);
    // Created once the first frame shows: playing already, unless paused.
    if (!element.paused) this.onPlaying();
  }

  /** Stalls and time playing since the previous slice (or the start). */
  take(): QualitySlice {
    if (this.playingSince !== null) {
      const now = this.now();
      this.watchedMs += now - this.playingSince;
      this.playingSince = now;
    }
    const slice = { stalls: this.stalls, watchedMs: Math.round(this.watchedMs) };
    this.stalls = 0;
    this.watchedMs = 0;
    return slice;
  }

  stop(): void {
    this.close();
    for (const [name, listener] of this.listeners) this.element.removeEventListener(name, listener);
  }

  private readonly onPlaying = () => {
    this.played = true;
    if (this.playingSince === null) this.playingSince = this.now();
  };

  private readonly onWaiting = () => {
    if (this.played && !this.element.seeking && this.playingSince !== null) this.stalls += 1;
    this.close();
  };

  private readonly close = () => {
    if (this.playingSince === null) return;
    this.watchedMs += this.now() - this.playingSince;
    this.playingSince = null;
  };
}
