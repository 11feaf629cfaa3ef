import { afterEach, describe, expect, it, vi } from "vitest";
import { fakeFetch } from "../test/fakes";
import { ApiError } from "./api";
import {
  clipLengths,
  createClip,
  deleteRecording,
  getRecording,
  mediaUrl,
  pictureOf,
  recentReplays,
  replayPath,
  streamClips,
  streamRecordings,
} from "./recordings";

afterEach(() => vi.unstubAllGlobals());

describe("the recordings API", () => {
  it("lists a stream's broadcasts and clips, the recent replays, and one recording", async () => {
    const { calls } = fakeFetch({
      "GET /api/streams/a%20b/recordings": () => ({ body: { recordings: [{ id: "r1" }] } }),
      "GET /api/streams/a%20b/clips": () => ({ body: { clips: [{ id: "c1" }, { id: "c2" }] } }),
      "GET /api/replays": () => ({ body: { replays: [{ id: "r9" }] } }),
      "GET /api/recordings/r1": () => ({ body: { id: "r1", kind: "broadcast" } }),
    });
    expect(await streamRecordings("a b")).toEqual([{ id: "r1" }]);
    expect(await streamClips("a b")).toEqual([{ id: "c1" }, { id: "c2" }]);
    expect(await recentReplays(5)).toEqual([{ id: "r9" }]);
    expect(await getRecording("r1")).toMatchObject({ kind: "broadcast" });
    expect(calls.map((c) => c.path)).toEqual([
      "/api/streams/a%20b/recordings",
      "/api/streams/a%20b/clips",
      "/api/replays?limit=5",
      "/api/recordings/r1",
    ]);
  });

  it("deletes a recording, and passes the server's refusal on", async () => {
    const { calls } = fakeFetch({
      "DELETE /api/recordings/r1": () => ({ status: 204 }),
      "DELETE /api/recordings/r2": () => ({ status: 403, body: { error: "only the creator may delete a broadcast" } }),
    });
    await expect(deleteRecording("r1")).resolves.toBeUndefined();
    await expect(deleteRecording("r2")).rejects.toMatchObject({ status: 403, message: "only the creator may delete a broadcast" });
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual(["DELETE /api/recordings/r1", "DELETE /api/recordings/r2"]);
  });

  it("asks for a clip with its length and a trimmed title (none when blank), and keeps Retry-After of a 429", async () => {
    let refuse = false;
    const { calls } = fakeFetch({
      "POST /api/streams/s1/clips": () =>
        refuse
          ? { status: 429, body: { error: "20 clips an hour at most" }, headers: { "Retry-After": "42" } }
          : { status: 201, body: { id: "c1", kind: "clip" } },
    });
    expect(await createClip("s1", 30, "  the goal  ")).toMatchObject({ id: "c1" });
    await createClip("s1", 15, "   ");
    expect(calls.map((c) => c.body)).toEqual([{ durationSec: 30, title: "the goal" }, { durationSec: 15 }]);
    refuse = true;
    const refused = await createClip("s1", 60).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused).toMatchObject({ status: 429, retryAfterMs: 42_000, message: "20 clips an hour at most" });
  });
});

describe("recording helpers", () => {
  it("offers the clip lengths up to the server's maximum", () => {
    expect(clipLengths()).toEqual([15, 30, 60]);
    expect(clipLengths(45)).toEqual([15, 30]);
    expect(clipLengths(120)).toEqual([15, 30, 60]);
    expect(clipLengths(10)).toEqual([10]);
  });

  it("names pages and media, and prefers the creator's poster", () => {
    expect(replayPath("r/1")).toBe("/replay/r%2F1");
    expect(mediaUrl("/vod/r1/index.m3u8")).toBe("/vod/r1/index.m3u8"); // the page's origin (no VITE_MEDIA_ORIGIN)
    expect(mediaUrl("https://cdn.example/p.jpg")).toBe("https://cdn.example/p.jpg");
    expect(pictureOf("https://cdn.example/p.jpg", "/thumbs/s1.jpg")).toBe("https://cdn.example/p.jpg");
    expect(pictureOf("", "/thumbs/s1.jpg")).toBe("/thumbs/s1.jpg");
    expect(pictureOf("", null)).toBeNull();
  });
});
