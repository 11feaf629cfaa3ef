import { afterEach, describe, expect, it, vi } from "vitest";
import { ANSWER_SDP, ANSWERED, FakePeerConnection, fakeWhepServer } from "../../test/webrtcFakes";
import { deleteSession, iceGathered, parseIceServers, postOffer, WhepError } from "./whepClient";

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe("parseIceServers", () => {
  it("reads every ice-server link, with its credentials, from one joined header", () => {
    const header =
      '<stun:stun.example.net:3478>; rel="ice-server", ' +
      '<turn:turn.example.net:3478?transport=udp>; rel="ice-server"; username="a,b"; credential="p;w"; credential-type="password"';
    expect(parseIceServers(header)).toEqual([
      { urls: "stun:stun.example.net:3478" },
      { urls: "turn:turn.example.net:3478?transport=udp", username: "a,b", credential: "p;w" },
    ]);
  });

  it("ignores other links, other schemes, and nothing at all", () => {
    expect(parseIceServers('</whep/s1/x>; rel="urn:ietf:params:whep:ext:core:layer", <http://x>; rel="ice-server"')).toEqual([]);
    expect(parseIceServers("<stun:a.example>; rel=ice-server")).toEqual([{ urls: "stun:a.example" }]);
    expect(parseIceServers(null)).toEqual([]);
    expect(parseIceServers("garbage")).toEqual([]);
  });
});

describe("postOffer", () => {
  it("POSTs the SDP as application/sdp and returns the answer, the absolute Location and the ICE servers", async () => {
    const { calls } = fakeWhepServer({
      ...ANSWERED,
      headers: [...(ANSWERED.headers ?? []), ["Link", '<stun:stun.example.net:3478>; rel="ice-server"']],
    });
    const answer = await postOffer("http://media.example/whep/s1", "v=0 offer", new AbortController().signal);
    expect(calls).toEqual([
      expect.objectContaining({ method: "POST", url: "http://media.example/whep/s1", body: "v=0 offer" }),
    ]);
    expect(calls[0]?.headers["content-type"]).toBe("application/sdp");
    expect(answer).toEqual({
      sdp: ANSWER_SDP,
      location: "http://media.example/whep/s1/sess-1",
      iceServers: [{ urls: "stun:stun.example.net:3478" }],
    });
  });

  it.each([
    [404, "The stream is not live. (stream is not live)"],
    [409, "The stream has no picture a browser can play in real time yet. (no rendition without B-frames yet)"],
    [503, "The server has no room for another real-time viewer. (too many sessions)"],
    [400, "The server refused real-time playback (400). (no video in the offer)"],
  ])("turns a %i into the viewer's words and the server's reason", async (status, message) => {
    const reasons: Record<number, string> = {
      404: "stream is not live",
      409: "no rendition without B-frames yet",
      503: "too many sessions",
      400: "no video in the offer",
    };
    fakeWhepServer({ status, body: JSON.stringify({ error: reasons[status] }), headers: [["Content-Type", "application/json"]] });
    const refused = postOffer("/whep/s1", "offer", new AbortController().signal);
    await expect(refused).rejects.toEqual(new WhepError(status, message));
    await expect(refused).rejects.toMatchObject({ status });
  });

  it("says so when the server cannot be reached or names no session", async () => {
    vi.stubGlobal("fetch", vi.fn().mockRejectedValue(new TypeError("Failed to fetch")));
    await expect(postOffer("/whep/s1", "offer", new AbortController().signal)).rejects.toMatchObject({ status: 0 });
    fakeWhepServer({ status: 201, body: ANSWER_SDP });
    await expect(postOffer("/whep/s1", "offer", new AbortController().signal)).rejects.toThrow("named no session");
  });
});

describe("iceGathered", () => {
  it("waits for gathering to complete", async () => {
    const pc = new FakePeerConnection();
    pc.iceGatheringState = "gathering";
    let done = false;
    const waiting = iceGathered(pc as unknown as RTCPeerConnection, 2000, new AbortController().signal).then(() => {
      done = true;
    });
    await Promise.resolve();
    expect(done).toBe(false);
    pc.finishGathering();
    await waiting;
    expect(done).toBe(true);
  });

  it("goes with what it has after the bound, or at once when aborted", async () => {
    vi.useFakeTimers();
    const pc = new FakePeerConnection();
    pc.iceGatheringState = "gathering";
    let done = false;
    void iceGathered(pc as unknown as RTCPeerConnection, 2000, new AbortController().signal).then(() => {
      done = true;
    });
    await vi.advanceTimersByTimeAsync(1999);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(done).toBe(true);
    const abort = new AbortController();
    const aborted = iceGathered(pc as unknown as RTCPeerConnection, 60_000, abort.signal);
    abort.abort();
    await aborted;
  });
});

describe("deleteSession", () => {
  it("DELETEs the session with keepalive, so it outlives the page", () => {
    const { calls } = fakeWhepServer();
    deleteSession("http://media.example/whep/s1/sess-1");
    expect(calls).toEqual([expect.objectContaining({ method: "DELETE", url: "http://media.example/whep/s1/sess-1", keepalive: true })]);
  });
});
