import { afterEach, describe, expect, it, vi } from "vitest";
import type { EngineEvents, Rendition } from "./engine";

/** hls.js as far as the engine uses it: levels, the events it raises, what it is asked. */
const fake = vi.hoisted(() => {
  type Handler = (event: string, data: unknown) => void;
  class FakeHls {
    static instances: FakeHls[] = [];
    static Events = {
      MANIFEST_PARSED: "manifestParsed",
      LEVELS_UPDATED: "levelsUpdated",
      LEVEL_LOADED: "levelLoaded",
      FRAG_LOADED: "fragLoaded",
      ERROR: "error",
    };
    static ErrorTypes = { MEDIA_ERROR: "media", NETWORK_ERROR: "network" };
    static ErrorDetails = { MANIFEST_INCOMPATIBLE_CODECS_ERROR: "manifestIncompatibleCodecsError" };
    static isSupported = () => true;
    handlers = new Map<string, Handler[]>();
    levels: { uri: string; height: number; frameRate: number; bitrate: number; codecs: string }[] = [];
    currentLevel = -1;
    loadLevel = 0;
    calls: string[] = [];
    liveSyncPosition = null;
    latency = 0;
    bandwidthEstimate = NaN;
    constructor(readonly config: Record<string, unknown> = {}) {
      FakeHls.instances.push(this);
    }
    on(event: string, handler: Handler) {
      this.handlers.set(event, [...(this.handlers.get(event) ?? []), handler]);
    }
    emit(event: string, data: unknown) {
      for (const handler of this.handlers.get(event) ?? []) handler(event, data);
    }
    loadSource(url: string) {
      this.calls.push(`loadSource ${url}`);
    }
    attachMedia() {
      this.calls.push("attachMedia");
    }
    startLoad() {
      this.calls.push("startLoad");
    }
    removeLevel(index: number) {
      this.calls.push(`removeLevel ${index}`);
      this.levels = this.levels.filter((_, i) => i !== index);
      this.emit(FakeHls.Events.LEVELS_UPDATED, { levels: this.levels });
    }
    destroy() {
      this.calls.push("destroy");
    }
  }
  return { FakeHls };
});

vi.mock("hls.js", () => ({ default: fake.FakeHls }));

const { hlsJsEngine } = await import("./hlsJsEngine");
const { playerSessionId } = await import("./cmcd");

const BASE = `${window.location.origin}/hls/ab12`;
const level = (name: string, height: number, frameRate = 30) => ({
  uri: `${BASE}/${name}/index.m3u8`, height, frameRate, bitrate: height * 3000, codecs: height ? "avc1.64001f,mp4a.40.2" : "mp4a.40.2",
});

function multivariant(...names: string[]): string {
  return ["#EXTM3U", ...names.flatMap((name) => ["#EXT-X-STREAM-INF:BANDWIDTH=1000", `/hls/ab12/${name}/index.m3u8`])].join("\n");
}

async function started(source: { hlsUrl: string; vod?: boolean; contentId?: string } = { hlsUrl: "/hls/ab12/index.m3u8" }) {
  const told: { renditions: Rendition[][]; ready: number; failed: string[]; handedOver: string[] } = {
    renditions: [], ready: 0, failed: [], handedOver: [],
  };
  const events: EngineEvents = {
    onRenditions: (renditions) => told.renditions.push(renditions),
    onReady: () => (told.ready += 1),
    onFailed: (message) => told.failed.push(message),
    onHandOver: (kind) => told.handedOver.push(kind),
  };
  const engine = await hlsJsEngine.start(document.createElement("video"), source, events, new AbortController().signal);
  const hls = fake.FakeHls.instances.at(-1)!;
  return { engine: engine!, hls, told };
}

afterEach(() => {
  fake.FakeHls.instances = [];
  vi.unstubAllGlobals();
});

describe("the hls.js engine", () => {
  it("offers the renditions by name and steers by id", async () => {
    const { engine, hls, told } = await started();
    hls.levels = [level("480p", 480), level("source", 1080, 60)];
    hls.emit("manifestParsed", { levels: hls.levels });
    expect(told.ready).toBe(1);
    expect(told.renditions.at(-1)!.map((r) => r.label)).toEqual(["1080p60 (source)", "480p"]);
    engine.setRendition(`${BASE}/source/index.m3u8`);
    expect(hls.currentLevel).toBe(1);
    expect(engine.currentRendition()).toBe("source"); // the server's name: its metrics' label
    engine.setRendition(null);
    expect(hls.currentLevel).toBe(-1);
    engine.resume();
    expect(hls.calls.at(-1)).toBe("startLoad");
    engine.destroy();
  });

  it("reloads the multivariant playlist when the level it plays ends, and keeps the choice", async () => {
    const fetched: string[] = [];
    vi.stubGlobal("fetch", vi.fn(async (url: string) => {
      fetched.push(url);
      return new Response(multivariant("360p", "audio"));
    }));
    const { engine, hls, told } = await started();
    hls.levels = [level("720p", 720), level("480p", 480)];
    hls.emit("manifestParsed", { levels: hls.levels });
    engine.setRendition(`${BASE}/480p/index.m3u8`);
    hls.emit("levelLoaded", { level: 1, details: { live: false } }); // EXT-X-ENDLIST on 480p
    await vi.waitFor(() => expect(hls.calls.filter((call) => call.startsWith("loadSource"))).toHaveLength(2));
    expect(hls.calls.at(-1)).toBe("loadSource /hls/ab12/index.m3u8");
    expect(fetched).toEqual([`${BASE}/index.m3u8`]);
    // The new presentation: the choice is gone with its rendition, the menu follows.
    hls.levels = [level("360p", 360), level("audio", 0)];
    hls.currentLevel = -1;
    hls.emit("manifestParsed", { levels: hls.levels });
    expect(told.renditions.at(-1)!.map((r) => r.label)).toEqual(["360p", "Audio only"]);
    expect(hls.currentLevel).toBe(-1);
    expect(told.ready).toBe(2); // the player starts the element again
    engine.destroy();
  });

  it("drops a rendition that left without touching the one playing, and refreshes the menu", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => new Response(multivariant("source"))));
    const { engine, hls, told } = await started();
    hls.levels = [level("source", 720), level("480p", 480)];
    hls.currentLevel = 0;
    hls.emit("manifestParsed", { levels: hls.levels });
    hls.emit("levelLoaded", { level: 1, details: { live: false } });
    await vi.waitFor(() => expect(hls.calls).toContain("removeLevel 1"));
    expect(told.renditions.at(-1)!.map((r) => r.label)).toEqual(["720p (source)"]);
    expect(hls.calls.filter((call) => call.startsWith("loadSource"))).toHaveLength(1);
    engine.destroy();
  });

  it("hands the stream over, stopped, when MSE plays none of its codecs: no retry can help", async () => {
    const { hls, told } = await started();
    hls.emit("error", { fatal: true, type: "media", details: "manifestIncompatibleCodecsError" });
    expect(told.handedOver).toEqual(["hlsjs"]);
    expect(told.failed).toEqual([]);
    expect(hls.calls.at(-1)).toBe("destroy");
  });

  it("lets a stream that really ended play out", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => new Response(multivariant("source"))));
    const { engine, hls } = await started();
    hls.levels = [level("source", 720)];
    hls.emit("manifestParsed", { levels: hls.levels });
    hls.emit("levelLoaded", { level: 0, details: { live: false } });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(hls.calls).toEqual(["loadSource /hls/ab12/index.m3u8", "attachMedia"]);
    engine.destroy();
  });

  it("has hls.js send CMCD in request headers for same-origin media, under the page's session id, and reads its throughput", async () => {
    const { engine, hls } = await started({ hlsUrl: "/hls/ab12/index.m3u8", contentId: "ab12" });
    // Headers, not the query string: the URLs stay the same for every viewer (an edge caches them).
    expect(hls.config.cmcd).toEqual({ sessionId: playerSessionId, contentId: "ab12", useHeaders: true });
    expect(engine.throughput?.()).toBeNull();
    hls.bandwidthEstimate = 8_400_000;
    expect(engine.throughput?.()).toBe(8_400_000);
    engine.destroy();
    const replay = await started({ hlsUrl: "/vod/r1/index.m3u8", vod: true });
    expect(replay.hls.config.cmcd).toBeUndefined(); // a replay is no live session
    replay.engine.destroy();
    const elsewhere = await started({ hlsUrl: "https://edge.example.org/hls/ab12/index.m3u8", contentId: "ab12" });
    expect(elsewhere.hls.config.cmcd).toBeUndefined(); // cross-origin: the reports carry the quality
    elsewhere.engine.destroy();
  });

  it("plays a recording from its start over its whole length, and never watches its levels", async () => {
    const fetched = vi.fn(async () => new Response(multivariant("source")));
    vi.stubGlobal("fetch", fetched);
    const live = await started();
    expect(live.hls.config).toMatchObject({ lowLatencyMode: true, liveDurationInfinity: true });
    live.engine.destroy();
    vi.useFakeTimers();
    try {
      const { engine, hls, told } = await started({ hlsUrl: "/vod/r1/index.m3u8", vod: true });
      expect(hls.config).toMatchObject({ startPosition: 0, lowLatencyMode: false, liveDurationInfinity: false });
      hls.levels = [level("source", 720), level("audio", 0)];
      hls.emit("manifestParsed", { levels: hls.levels });
      expect(told.ready).toBe(1);
      hls.emit("levelLoaded", { level: 0, details: { live: false } }); // a VOD playlist ends, always
      await vi.advanceTimersByTimeAsync(60_000);
      expect(fetched).not.toHaveBeenCalled();
      expect(hls.calls).toEqual(["loadSource /vod/r1/index.m3u8", "attachMedia"]);
      engine.destroy();
    } finally {
      vi.useRealTimers();
    }
  });
});
