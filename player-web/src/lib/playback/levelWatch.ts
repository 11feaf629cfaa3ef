// Keeps an engine's levels in step with the multivariant playlist while a broadcast goes on.
// Renditions come and go within one broadcast (a smaller backup takes over, audio appears
// or goes): one that no longer exists ends its media playlist (EXT-X-ENDLIST) and leaves
// the multivariant playlist; new ones only appear there. hls.js never reloads the
// multivariant playlist itself, so this does: when a level ends, at once, and every
// `intervalMs` (cheap: the server caches it). A level that ended but is still listed is the
// broadcast itself ending: it plays out.
import { parseMultivariant } from "./variants";

/** What the watch needs of the engine (hls.js, behind a thin adapter). */
export interface LevelHost {
  /** The media playlist of each level, in the engine's order. */
  levelUris(): string[];
  /** The level playing now, -1 when none. */
  playingLevel(): number;
  /** Drop a level the engine is not playing. */
  removeLevel(index: number): void;
  /** Load the multivariant playlist again and start over on what it lists now. */
  reload(): void;
}

export type FetchText = (url: string, signal: AbortSignal) => Promise<string>;

export const fetchPlaylist: FetchText = async (url, signal) => {
  const response = await fetch(url, { signal, credentials: "include", cache: "no-store" });
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.text();
};

export const CHECK_INTERVAL_MS = 15_000;

export type WatchOutcome = "unchanged" | "removed" | "reloaded" | "ending" | "unknown";

export class LevelWatch {
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly abort = new AbortController();
  private checking: Promise<WatchOutcome> | null = null;

  constructor(
    private readonly host: LevelHost,
    private readonly manifestUrl: string,
    /** The levels changed without a reload (the menu is refreshed). */
    private readonly onRemoved: () => void,
    private readonly fetchText: FetchText = fetchPlaylist,
    readonly intervalMs = CHECK_INTERVAL_MS,
  ) {}

  start(): void {
    if (this.timer === null) this.timer = setInterval(() => void this.check(), this.intervalMs);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.abort.abort();
  }

  /** A level's media playlist reached EXT-X-ENDLIST. */
  levelEnded(index: number): Promise<WatchOutcome> {
    const uri = this.host.levelUris()[index];
    return this.check(uri);
  }

  /** Compare the levels with the multivariant playlist and act on the difference. */
  check(ended?: string): Promise<WatchOutcome> {
    // One request at a time; a level ending meanwhile waits for it and looks again.
    const previous = this.checking ?? Promise.resolve<WatchOutcome>("unchanged");
    const next = previous.then(() => this.compare(ended));
    this.checking = next.finally(() => {
      if (this.checking === next) this.checking = null;
    });
    return next;
  }

  private async compare(ended: string | undefined): Promise<WatchOutcome> {
    let listed: Set<string>;
    try {
      const text = await this.fetchText(this.manifestUrl, this.abort.signal);
      listed = new Set(parseMultivariant(text, this.manifestUrl).map((variant) => variant.uri));
    } catch {
      return "unknown"; // next time (a stream that ended may have no playlist any more)
    }
    if (this.abort.signal.aborted || listed.size === 0) return "unknown";
    const uris = this.host.levelUris();
    if (ended !== undefined && listed.has(ended)) return "ending";
    const playing = uris[this.host.playingLevel()];
    const added = [...listed].some((uri) => !uris.includes(uri));
    const gone = uris.map((uri, index) => ({ uri, index })).filter(({ uri }) => !listed.has(uri));
    if (gone.length === 0 && !added) return "unchanged";
    if (added || gone.length === uris.length || (playing !== undefined && !listed.has(playing))) {
      // New renditions cannot be added to the engine's levels, and the one playing is gone:
      // start over on the new set (the engine keeps the viewer's choice where it still exists).
      this.host.reload();
      return "reloaded";
    }
    for (const { index } of gone.reverse()) this.host.removeLevel(index);
    this.onRemoved();
    return "removed";
  }
}
