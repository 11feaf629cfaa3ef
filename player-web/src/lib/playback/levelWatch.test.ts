import { afterEach, describe, expect, it, vi } from "vitest";
import { LevelWatch, type LevelHost } from "./levelWatch";

const MANIFEST = "http://m/hls/ab12/index.m3u8";
const uri = (name: string) => `http://m/hls/ab12/${name}/index.m3u8`;

function multivariant(...names: string[]): string {
  return ["#EXTM3U", ...names.flatMap((name) => [`#EXT-X-STREAM-INF:BANDWIDTH=1000`, `/hls/ab12/${name}/index.m3u8`])].join("\n");
}

/** hls.js as the watch sees it: levels by playlist, the one playing, what was done to it. */
class FakeHost implements LevelHost {
  done: string[] = [];
  constructor(
    public levels: string[],
    public playing = 0,
  ) {}
  levelUris = () => this.levels.map(uri);
  playingLevel = () => this.playing;
  removeLevel = (index: number) => {
    this.done.push(`remove ${this.levels[index]}`);
    this.levels = this.levels.filter((_, i) => i !== index);
  };
  reload = () => this.done.push("reload");
}

function watching(host: FakeHost, served: () => string | Error) {
  const onRemoved = vi.fn();
  const fetchText = vi.fn(async (url: string) => {
    expect(url).toBe(MANIFEST);
    const reply = served();
    if (reply instanceof Error) throw reply;
    return reply;
  });
  return { watch: new LevelWatch(host, MANIFEST, onRemoved, fetchText, 15_000), onRemoved, fetchText };
}

afterEach(() => vi.useRealTimers());

describe("LevelWatch", () => {
  it("starts over on what exists when the rendition playing ends and leaves the playlist", async () => {
    const host = new FakeHost(["source", "720p", "480p"], 1);
    const { watch } = watching(host, () => multivariant("source", "480p"));
    expect(await watch.levelEnded(1)).toBe("reloaded");
    expect(host.done).toEqual(["reload"]);
  });

  it("lets the broadcast play out when the rendition that ended is still listed", async () => {
    const host = new FakeHost(["source", "720p"], 0);
    const { watch } = watching(host, () => multivariant("source", "720p"));
    expect(await watch.levelEnded(0)).toBe("ending");
    expect(host.done).toEqual([]);
  });

  it("drops renditions gone elsewhere without disturbing the one playing, and says so", async () => {
    const host = new FakeHost(["source", "720p", "480p"], 0);
    const { watch, onRemoved } = watching(host, () => multivariant("source"));
    expect(await watch.levelEnded(2)).toBe("removed");
    expect(host.done).toEqual(["remove 480p", "remove 720p"]);
    expect(host.levels).toEqual(["source"]);
    expect(onRemoved).toHaveBeenCalledTimes(1);
  });

  it("reloads when new renditions appear (audio came, a taller backup took over)", async () => {
    const host = new FakeHost(["source"], 0);
    const { watch } = watching(host, () => multivariant("source", "audio"));
    expect(await watch.check()).toBe("reloaded");
    expect(host.done).toEqual(["reload"]);
  });

  it("looks at the playlist every interval, and does nothing while it is unchanged or unreachable", async () => {
    vi.useFakeTimers();
    const host = new FakeHost(["source", "480p"], 0);
    let served: string | Error = multivariant("source", "480p");
    const { watch, fetchText } = watching(host, () => served);
    watch.start();
    await vi.advanceTimersByTimeAsync(15_000);
    expect(fetchText).toHaveBeenCalledTimes(1);
    served = new Error("offline");
    await vi.advanceTimersByTimeAsync(15_000);
    expect(fetchText).toHaveBeenCalledTimes(2);
    expect(host.done).toEqual([]);
    served = multivariant("source");
    await vi.advanceTimersByTimeAsync(15_000);
    expect(host.done).toEqual(["remove 480p"]);
    watch.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fetchText).toHaveBeenCalledTimes(3);
  });

  it("asks one question at a time", async () => {
    const host = new FakeHost(["source", "720p"], 1);
    let release: () => void = () => undefined;
    const fetchText = vi.fn(
      () => new Promise<string>((resolve) => (release = () => resolve(multivariant("source")))),
    );
    const watch = new LevelWatch(host, MANIFEST, vi.fn(), fetchText);
    const first = watch.check();
    const second = watch.levelEnded(1);
    await Promise.resolve();
    expect(fetchText).toHaveBeenCalledTimes(1);
    release();
    expect(await first).toBe("reloaded");
    await vi.waitFor(() => expect(fetchText).toHaveBeenCalledTimes(2));
    release();
    await second;
  });
});
