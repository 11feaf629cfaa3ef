import { describe, expect, it } from "vitest";
import { cmcdSettings, newSessionId, playerSessionId } from "./cmcd";

describe("CMCD settings", () => {
  it("send CMCD in headers (a cacheable URL), one session id per page view, the stream as content", () => {
    expect(cmcdSettings("ab12", "/hls/ab12/index.m3u8", true)).toEqual({ sessionId: playerSessionId, contentId: "ab12", useHeaders: true });
    expect(cmcdSettings("ab12", `${window.location.origin}/hls/ab12/index.m3u8`, true)?.useHeaders).toBe(true);
    expect(cmcdSettings("x".repeat(80), "/hls/x/index.m3u8", true)?.contentId).toHaveLength(64);
  });

  it("send nothing where the player does not report, or plays no live stream", () => {
    expect(cmcdSettings("ab12", "/hls/ab12/index.m3u8", false)).toBeUndefined();
    expect(cmcdSettings(undefined, "/vod/r1/index.m3u8", true)).toBeUndefined();
  });

  it("send nothing to another origin: a preflight per part would cost a round trip each", () => {
    expect(cmcdSettings("ab12", "https://edge.example.org/hls/ab12/index.m3u8", true)).toBeUndefined();
  });

  it("make session ids that differ and fit CMCD's 64 characters", () => {
    const ids = new Set(Array.from({ length: 20 }, newSessionId));
    expect(ids.size).toBe(20);
    for (const id of ids) expect(id.length).toBeLessThanOrEqual(64);
    expect(playerSessionId).toMatch(/^[0-9a-f-]{32,36}$/);
  });
});
