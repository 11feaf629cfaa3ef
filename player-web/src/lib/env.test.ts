import { describe, expect, it } from "vitest";
import { EnvError, readEnv } from "./env";

describe("readEnv", () => {
  it("falls back to same-origin defaults", () => {
    expect(readEnv({})).toEqual({
      apiBase: "",
      mediaOrigin: "",
      ageGateTtlDays: 30,
      pollIntervalMs: 4000,
      liveEdgeThresholdSec: 5,
      metrics: true,
    });
  });

  it("reads VITE_ names first, then NEXT_PUBLIC_ ones", () => {
    const env = readEnv({
      VITE_API_BASE: "https://live.example.org/",
      NEXT_PUBLIC_API_BASE: "https://ignored.example.org",
      NEXT_PUBLIC_MEDIA_ORIGIN: "https://edge.example.org/hls",
      NEXT_PUBLIC_AGE_GATE_TTL_DAYS: "7",
      VITE_METRICS: "off",
    });
    expect(env.apiBase).toBe("https://live.example.org");
    expect(env.mediaOrigin).toBe("https://edge.example.org");
    expect(env.ageGateTtlDays).toBe(7);
    expect(env.metrics).toBe(false);
  });

  it("uses the API origin for media when no media origin is set", () => {
    expect(readEnv({ VITE_API_BASE: "http://10.0.0.5:8080" }).mediaOrigin).toBe("http://10.0.0.5:8080");
  });

  it("names every wrong value at once", () => {
    try {
      readEnv({ VITE_API_BASE: "ftp://x", VITE_AGE_GATE_TTL_DAYS: "0", VITE_POLL_INTERVAL_MS: "4s", VITE_METRICS: "maybe" });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(EnvError);
      const problems = (error as EnvError).problems.join("\n");
      expect(problems).toMatch(/API_BASE must be an http\(s\) URL/);
      expect(problems).toMatch(/AGE_GATE_TTL_DAYS must be an integer from 1 to 3650/);
      expect(problems).toMatch(/POLL_INTERVAL_MS/);
      expect(problems).toMatch(/METRICS must be true or false/);
    }
  });

  it("ignores blank values", () => {
    expect(readEnv({ VITE_API_BASE: "  ", VITE_AGE_GATE_TTL_DAYS: "" }).ageGateTtlDays).toBe(30);
  });
});
