import { afterEach, describe, expect, it, vi } from "vitest";
import { FakePeerConnection, fakeWhepServer, installWebrtc } from "../../test/webrtcFakes";
import type { EngineEvents } from "./engine";
import { renditionLabel } from "./hlsJsEngine";
import { startEngine, UNSUPPORTED } from "./startEngine";

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

function events(): EngineEvents & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    onRenditions: (renditions) => log.push(`renditions ${renditions.length}`),
    onReady: () => log.push("ready"),
    onFailed: (message) => log.push(`failed: ${message}`),
    onHandOver: (kind) => log.push(`handed over: ${kind}`),
  };
}

// jsdom has no Media Source Extensions: hls.js reports itself unsupported, as in a browser
// without MSE, and the next engine in the list is asked.
describe("startEngine", () => {
  it("hands the stream to the browser's own HLS where hls.js cannot run", async () => {
    vi.spyOn(HTMLMediaElement.prototype, "canPlayType").mockReturnValue("maybe");
    const element = document.createElement("video");
    const told = events();
    const engine = await startEngine(element, { hlsUrl: "/hls/ab12/index.m3u8" }, told, new AbortController().signal);
    expect(engine).not.toBeNull();
    expect(element.getAttribute("src")).toBe("/hls/ab12/index.m3u8");
    expect(told.log).toEqual(["ready"]);
    expect(engine!.liveSyncPosition()).toBeNull();
    expect(engine!.currentRendition()).toBe("");
  });

  it("passes over the engines that handed the stream over", async () => {
    vi.spyOn(HTMLMediaElement.prototype, "canPlayType").mockReturnValue("maybe");
    const element = document.createElement("video");
    const engine = await startEngine(element, { hlsUrl: "/hls/ab12/index.m3u8" }, events(), new AbortController().signal, "llhls", ["native"]);
    expect(engine).toBeNull(); // hls.js cannot run in jsdom, and the browser's HLS was passed over
    expect(element.hasAttribute("src")).toBe(false);
  });

  it("says the browser cannot play the stream when no engine can", async () => {
    vi.spyOn(HTMLMediaElement.prototype, "canPlayType").mockReturnValue("");
    const element = document.createElement("video");
    const told = events();
    expect(await startEngine(element, { hlsUrl: "/hls/x/index.m3u8" }, told, new AbortController().signal)).toBeNull();
    expect(told.log).toEqual([`failed: ${UNSUPPORTED}`]);
    expect(element.hasAttribute("src")).toBe(false);
  });

  it("starts nothing, and says nothing, once aborted", async () => {
    vi.spyOn(HTMLMediaElement.prototype, "canPlayType").mockReturnValue("maybe");
    const element = document.createElement("video");
    const told = events();
    const abort = new AbortController();
    const starting = startEngine(element, { hlsUrl: "/hls/x/index.m3u8" }, told, abort.signal);
    abort.abort();
    expect(await starting).toBeNull();
    expect(told.log).toEqual([]);
    expect(element.hasAttribute("src")).toBe(false);
  });
});

describe("startEngine by mode", () => {
  it("plays Real-time over WebRTC only, and LL-HLS never over it", async () => {
    installWebrtc();
    fakeWhepServer();
    vi.spyOn(HTMLMediaElement.prototype, "canPlayType").mockReturnValue("maybe");
    const source = { hlsUrl: "/hls/ab12/index.m3u8", whepUrl: "/whep/ab12" };
    const element = document.createElement("video");
    const hls = await startEngine(element, source, events(), new AbortController().signal, "llhls");
    expect(FakePeerConnection.instances).toHaveLength(0);
    expect(element.getAttribute("src")).toBe("/hls/ab12/index.m3u8");
    hls!.destroy();
    const other = document.createElement("video");
    const realtime = await startEngine(other, source, events(), new AbortController().signal, "realtime");
    expect(FakePeerConnection.instances).toHaveLength(1);
    expect(other.hasAttribute("src")).toBe(false);
    realtime!.destroy();
    expect(FakePeerConnection.last().closed).toBe(true);
  });

  it("says the browser cannot play Real-time without a WHEP source", async () => {
    installWebrtc();
    const told = events();
    expect(await startEngine(document.createElement("video"), { hlsUrl: "/h" }, told, new AbortController().signal, "realtime")).toBeNull();
    expect(told.log).toEqual([`failed: ${UNSUPPORTED}`]);
  });
});

describe("renditionLabel", () => {
  it("names a rendition by its height, else by its bitrate", () => {
    expect(renditionLabel({ height: 720, bitrate: 3_000_000 } as Parameters<typeof renditionLabel>[0])).toBe("720p");
    expect(renditionLabel({ height: 0, bitrate: 128_400 } as Parameters<typeof renditionLabel>[0])).toBe("128 kbit/s");
  });
});
