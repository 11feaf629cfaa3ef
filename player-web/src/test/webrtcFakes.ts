// Test doubles of the browser's WebRTC and of a WHEP server's HTTP side: an
// RTCPeerConnection the test drives (gathering, tracks, connection state, stats), a
// MediaStream, and a fetch that answers WHEP requests from a script. The real browser is
// exercised end to end in e2e/.
import { vi } from "vitest";

export const OFFER_SDP = "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=recvonly\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=recvonly\r\n";
export const CANDIDATE = "a=candidate:1 1 udp 2122260223 192.0.2.10 50000 typ host\r\n";
export const ANSWER_SDP =
  "v=0\r\nm=video 50000 UDP/TLS/RTP/SAVPF 96\r\na=sendonly\r\nm=audio 50000 UDP/TLS/RTP/SAVPF 111\r\na=sendonly\r\n";

export class FakeMediaStream {
  readonly tracks: MediaStreamTrack[] = [];
  addTrack(track: MediaStreamTrack): void {
    this.tracks.push(track);
  }
  getTracks(): MediaStreamTrack[] {
    return this.tracks;
  }
}

export class FakePeerConnection extends EventTarget {
  static instances: FakePeerConnection[] = [];
  config: RTCConfiguration;
  readonly transceivers: { kind: string; direction: string | undefined }[] = [];
  localDescription: RTCSessionDescriptionInit | null = null;
  remoteDescription: RTCSessionDescriptionInit | null = null;
  iceGatheringState: RTCIceGatheringState = "new";
  connectionState: RTCPeerConnectionState = "new";
  closed = false;
  /** What getStats() reports, by id. */
  stats: Record<string, unknown>[] = [];

  constructor(config: RTCConfiguration = {}) {
    super();
    this.config = config;
    FakePeerConnection.instances.push(this);
  }

  static reset(): void {
    FakePeerConnection.instances = [];
  }

  static last(): FakePeerConnection {
    const pc = FakePeerConnection.instances[FakePeerConnection.instances.length - 1];
    if (!pc) throw new Error("no peer connection was made");
    return pc;
  }

  addTransceiver(kind: string, init?: RTCRtpTransceiverInit): void {
    this.transceivers.push({ kind, direction: init?.direction });
  }

  async createOffer(): Promise<RTCSessionDescriptionInit> {
    return { type: "offer", sdp: OFFER_SDP };
  }

  async setLocalDescription(description: RTCSessionDescriptionInit): Promise<void> {
    this.localDescription = description;
    this.iceGatheringState = "gathering";
  }

  async setRemoteDescription(description: RTCSessionDescriptionInit): Promise<void> {
    this.remoteDescription = description;
  }

  getConfiguration(): RTCConfiguration {
    return this.config;
  }

  setConfiguration(config: RTCConfiguration): void {
    this.config = config;
  }

  async getStats(): Promise<RTCStatsReport> {
    return new Map(this.stats.map((entry) => [String(entry.id), entry])) as unknown as RTCStatsReport;
  }

  close(): void {
    this.closed = true;
    this.connectionState = "closed";
  }

  // What the test makes the browser do.

  /** Gathering ends: the local description now carries a candidate. */
  finishGathering(): void {
    this.localDescription = { type: "offer", sdp: `${this.localDescription?.sdp ?? ""}${CANDIDATE}` };
    this.iceGatheringState = "complete";
    this.dispatchEvent(new Event("icegatheringstatechange"));
  }

  receiveTrack(kind: "video" | "audio"): MediaStreamTrack {
    const track = { kind, id: `${kind}-${this.transceivers.length}` } as unknown as MediaStreamTrack;
    this.dispatchEvent(Object.assign(new Event("track"), { track, streams: [] }));
    return track;
  }

  changeState(state: RTCPeerConnectionState): void {
    this.connectionState = state;
    this.dispatchEvent(new Event("connectionstatechange"));
  }
}

export function installWebrtc(): void {
  FakePeerConnection.reset();
  vi.stubGlobal("RTCPeerConnection", FakePeerConnection);
  vi.stubGlobal("MediaStream", FakeMediaStream);
}

export interface WhepCall {
  method: string;
  url: string;
  body: string | null;
  headers: Record<string, string>;
  keepalive: boolean;
}

export interface WhepReply {
  status?: number;
  body?: string;
  headers?: [string, string][];
}

export const ANSWERED: WhepReply = {
  status: 201,
  body: ANSWER_SDP,
  headers: [
    ["Content-Type", "application/sdp"],
    ["Location", "/whep/s1/sess-1"],
  ],
};

/** A fetch that answers each POST with the next of `posts` (the last one again after that)
 * and each DELETE with 200; every request is recorded in `calls`. */
export function fakeWhepServer(...posts: WhepReply[]) {
  const calls: WhepCall[] = [];
  let posted = 0;
  const fetchImpl = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const headers = Object.fromEntries(new Headers(init.headers).entries());
    const method = init.method ?? "GET";
    calls.push({ method, url: String(input), body: typeof init.body === "string" ? init.body : null, headers, keepalive: init.keepalive === true });
    if (method === "DELETE") return new Response(null, { status: 200 });
    if (method !== "POST") return new Response(JSON.stringify({ error: "no such route" }), { status: 404 });
    const reply = posts[Math.min(posted, posts.length - 1)] ?? ANSWERED;
    posted += 1;
    return new Response(reply.body ?? null, { status: reply.status ?? 201, headers: new Headers(reply.headers ?? []) });
  });
  vi.stubGlobal("fetch", fetchImpl);
  return { calls, fetchImpl };
}
