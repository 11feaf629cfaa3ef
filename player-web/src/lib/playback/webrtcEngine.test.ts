import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ANSWER_SDP, ANSWERED, CANDIDATE, FakeMediaStream, FakePeerConnection, fakeWhepServer, installWebrtc } from "../../test/webrtcFakes";
import type { EngineEvents, PlaybackEngine, PlaybackSource } from "./engine";
import { answerSendsVideo, DELETE_WAIT_MS, NO_MEDIA_MS, STATS_INTERVAL_MS, webrtcEngine } from "./webrtcEngine";
import { ICE_GATHERING_MS } from "./whepClient";

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval"] });
  installWebrtc();
});
const running: PlaybackEngine[] = [];
afterEach(() => {
  for (const engine of running.splice(0)) engine.destroy(); // none may hear the next test's page events
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

/** Each test its own endpoint: the engine remembers ICE servers per endpoint. */
let endpoint = 0;
const absolute = (path: string) => new URL(path, window.location.href).href;

async function start(source?: Partial<PlaybackSource>) {
  endpoint += 1;
  const element = document.createElement("video");
  const log: string[] = [];
  const events: EngineEvents = {
    onRenditions: (renditions) => log.push(`renditions ${renditions.length}`),
    onReady: () => log.push("ready"),
    onFailed: (message) => log.push(`failed: ${message}`),
    onHandOver: (kind) => log.push(`handed over: ${kind}`),
  };
  const engine = await webrtcEngine.start(element, { hlsUrl: "/hls/s1/index.m3u8", whepUrl: `/whep/s${endpoint}`, ...source }, events, new AbortController().signal);
  running.push(engine!);
  return { element, log, engine: engine!, pc: FakePeerConnection.last(), url: `/whep/s${endpoint}` };
}

/** Once the offer is made, gathering completes; then the answer is set. */
async function negotiated(pc: FakePeerConnection) {
  await vi.waitFor(() => expect(pc.localDescription).not.toBeNull());
  pc.finishGathering();
  await vi.waitFor(() => expect(pc.remoteDescription).not.toBeNull());
}

const frames = (count: number) => [
  { id: "IV", type: "inbound-rtp", kind: "video", jitterBufferDelay: count * 0.05, jitterBufferEmittedCount: count, framesDecoded: count, frameHeight: 720 },
  { id: "T", type: "transport", selectedCandidatePairId: "P" },
  { id: "P", type: "candidate-pair", currentRoundTripTime: 0.04 },
];

describe("webrtcEngine", () => {
  it("is not for a source without WHEP, nor for a browser without WebRTC", async () => {
    const element = document.createElement("video");
    const events = { onRenditions: vi.fn(), onReady: vi.fn(), onFailed: vi.fn(), onHandOver: vi.fn() };
    const signal = new AbortController().signal;
    expect(await webrtcEngine.start(element, { hlsUrl: "/hls/s1/index.m3u8" }, events, signal)).toBeNull();
    vi.stubGlobal("RTCPeerConnection", undefined);
    expect(await webrtcEngine.start(element, { hlsUrl: "/h", whepUrl: "/whep/s1" }, events, signal)).toBeNull();
    expect(events.onFailed).not.toHaveBeenCalled();
  });

  it("offers to receive video and audio once gathering is done, and plays both tracks from one stream", async () => {
    const { calls } = fakeWhepServer(ANSWERED);
    const { element, log, pc, url } = await start();
    expect(pc.transceivers).toEqual([
      { kind: "video", direction: "recvonly" },
      { kind: "audio", direction: "recvonly" },
    ]);
    expect(pc.config.bundlePolicy).toBe("max-bundle");
    await vi.advanceTimersByTimeAsync(ICE_GATHERING_MS / 2);
    expect(calls).toEqual([]); // no trickle ICE: the offer waits for its candidates
    await negotiated(pc);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ method: "POST", url, headers: { "content-type": "application/sdp" } });
    expect(calls[0]?.body).toContain(CANDIDATE);
    expect(pc.remoteDescription).toEqual({ type: "answer", sdp: ANSWER_SDP });
    const video = pc.receiveTrack("video");
    const audio = pc.receiveTrack("audio");
    expect((element.srcObject as unknown as FakeMediaStream).getTracks()).toEqual([video, audio]);
    expect(log).toEqual(["renditions 0", "ready"]);
  });

  it("sends what it has gathered when gathering takes too long", async () => {
    const { calls } = fakeWhepServer(ANSWERED);
    await start();
    await vi.advanceTimersByTimeAsync(ICE_GATHERING_MS);
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    expect(calls[0]?.body).not.toContain(CANDIDATE);
  });

  it("ends its session with a keepalive DELETE and lets go of the element when stopped", async () => {
    const { calls } = fakeWhepServer(ANSWERED);
    const { element, engine, pc } = await start();
    await negotiated(pc);
    pc.receiveTrack("video");
    engine.destroy();
    expect(calls[1]).toMatchObject({ method: "DELETE", url: absolute("/whep/s1/sess-1"), keepalive: true });
    expect(pc.closed).toBe(false); // the DELETE goes first: a closed peer would end the session before it
    expect(element.srcObject).toBeNull();
    await vi.advanceTimersByTimeAsync(0);
    expect(pc.closed).toBe(true); // once it is answered
    await vi.advanceTimersByTimeAsync(NO_MEDIA_MS * 2);
    expect(calls).toHaveLength(2);
  });

  it("closes the peer anyway when the DELETE gets no answer", async () => {
    const { fetchImpl } = fakeWhepServer(ANSWERED);
    const { engine, pc } = await start();
    await negotiated(pc);
    fetchImpl.mockImplementationOnce(() => new Promise<Response>(() => undefined)); // hangs
    engine.destroy();
    await vi.advanceTimersByTimeAsync(DELETE_WAIT_MS - 1);
    expect(pc.closed).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(pc.closed).toBe(true);
  });

  it("uses the ICE servers the answer offers, and gathers the next session with them", async () => {
    const link = '<stun:stun.example.net:3478>; rel="ice-server"';
    fakeWhepServer({ ...ANSWERED, headers: [...(ANSWERED.headers ?? []), ["Link", link]] });
    const first = await start();
    await negotiated(first.pc);
    expect(first.pc.config).toEqual({ bundlePolicy: "max-bundle", iceServers: [{ urls: "stun:stun.example.net:3478" }] });
    first.engine.resume(); // a new session at the same endpoint
    const second = FakePeerConnection.last();
    expect(second).not.toBe(first.pc);
    expect(second.config.iceServers).toEqual([{ urls: "stun:stun.example.net:3478" }]);
  });

  it("reports a refusal in the viewer's words, with nothing left to delete", async () => {
    const { calls } = fakeWhepServer({ status: 409, body: JSON.stringify({ error: "no rendition yet" }) });
    const { log, pc } = await start();
    pc.finishGathering();
    await vi.waitFor(() => expect(log).toContain("failed: The stream has no picture a browser can play in real time yet. (no rendition yet)"));
    expect(pc.closed).toBe(true);
    expect(calls.map((call) => call.method)).toEqual(["POST"]);
  });

  it("reports a connection that failed, and ends the session", async () => {
    const { calls } = fakeWhepServer(ANSWERED);
    const { log, pc } = await start();
    await negotiated(pc);
    pc.changeState("disconnected"); // ICE may come back by itself
    expect(log).toEqual(["renditions 0"]);
    pc.changeState("failed");
    expect(log).toEqual(["renditions 0", "failed: The real-time connection failed."]);
    expect(calls.map((call) => call.method)).toEqual(["POST", "DELETE"]);
  });

  it("gives up when no picture arrives in time", async () => {
    fakeWhepServer(ANSWERED);
    const { log, pc } = await start();
    await negotiated(pc);
    pc.receiveTrack("video");
    await vi.advanceTimersByTimeAsync(NO_MEDIA_MS);
    expect(log).toContain("failed: No picture arrived in real time.");
    await vi.advanceTimersByTimeAsync(0);
    expect(pc.closed).toBe(true);
  });

  it("keeps playing once frames are decoded, and estimates its latency from the statistics", async () => {
    fakeWhepServer(ANSWERED);
    const { log, pc, engine } = await start();
    await negotiated(pc);
    pc.stats = frames(25);
    await vi.advanceTimersByTimeAsync(STATS_INTERVAL_MS);
    expect(engine.latency()).toBeCloseTo(0.05 + 0.02);
    pc.stats = frames(50).map((entry) => (entry.id === "IV" ? { ...entry, jitterBufferDelay: 1.25 + 25 * 0.03 } : entry));
    await vi.advanceTimersByTimeAsync(STATS_INTERVAL_MS);
    expect(engine.latency()).toBeCloseTo(0.03 + 0.02); // the last second's buffer, not the mean since the start
    expect(engine.currentRendition()).toBe("720p real-time");
    await vi.advanceTimersByTimeAsync(NO_MEDIA_MS);
    expect(log.filter((line) => line.startsWith("failed"))).toEqual([]);
    expect(engine.liveSyncPosition()).toBeNull();
    engine.destroy();
  });

  it("ends the session when the page is hidden, and opens a new one if the page comes back", async () => {
    const { calls } = fakeWhepServer(ANSWERED);
    const { pc, log, engine } = await start();
    await negotiated(pc);
    window.dispatchEvent(new Event("pagehide"));
    expect(calls[1]).toMatchObject({ method: "DELETE", keepalive: true });
    await vi.advanceTimersByTimeAsync(0);
    expect(pc.closed).toBe(true);
    window.dispatchEvent(Object.assign(new Event("pageshow"), { persisted: true }));
    const again = FakePeerConnection.last();
    expect(again).not.toBe(pc);
    await negotiated(again);
    expect(calls.map((call) => call.method)).toEqual(["POST", "DELETE", "POST"]);
    expect(log.filter((line) => line.startsWith("failed"))).toEqual([]);
    engine.destroy();
    window.dispatchEvent(Object.assign(new Event("pageshow"), { persisted: true }));
    expect(FakePeerConnection.last()).toBe(again); // a stopped engine stays stopped
  });
});

describe("answerSendsVideo", () => {
  it("looks for a video section that sends", () => {
    expect(answerSendsVideo(ANSWER_SDP)).toBe(true);
    expect(answerSendsVideo("v=0\r\nm=video 0 UDP/TLS/RTP/SAVPF 96\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n")).toBe(false);
    expect(answerSendsVideo("v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=inactive\r\nm=audio 9 X 111\r\na=sendonly\r\n")).toBe(false);
    expect(answerSendsVideo("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n")).toBe(false);
  });
});
