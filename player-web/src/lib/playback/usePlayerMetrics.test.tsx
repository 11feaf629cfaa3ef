import { act, renderHook } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fakeFetch } from "../../test/fakes";
import { fakeVideo } from "../../test/fakeVideo";
import { playerSessionId } from "./cmcd";
import { LATENCY_REPORT_AFTER_MS, QUALITY_REPORT_MS, usePlayerMetrics, type PlaybackProbe } from "./usePlayerMetrics";
import type { FirstFrame } from "./usePlayback";

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setInterval", "clearInterval", "setTimeout", "clearTimeout", "performance", "Date"] });
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

function probe(latency: number | null): PlaybackProbe & { latencyNow: number | null } {
  const read = { latencyNow: latency, latency: () => read.latencyNow, currentRendition: () => "720p" };
  return read;
}

const posted = (calls: { method: string; path: string; body: unknown }[]) =>
  calls.filter((call) => call.method === "POST" && call.path === "/api/streams/ab12/metrics").map((call) => call.body);

describe("usePlayerMetrics", () => {
  it("measures nothing before the first frame", () => {
    const { calls } = fakeFetch({ "POST /api/streams/ab12/metrics": () => ({ status: 204 }) });
    const { result } = renderHook(() => usePlayerMetrics(null, probe(1), { streamId: "ab12", report: true }));
    act(() => vi.advanceTimersByTime(20_000));
    expect(result.current).toEqual({ ttffMs: null, firstFrameAt: null, latencyS: null });
    expect(calls).toHaveLength(0);
  });

  it("reports the join time at the first frame, then the latency once, after playback settled", async () => {
    const { calls } = fakeFetch({ "POST /api/streams/ab12/metrics": () => ({ status: 204 }) });
    const startedAt = performance.now();
    const first: FirstFrame = { startedAt, at: startedAt + 812.4 };
    const onFirstFrame = vi.fn();
    const reading = probe(2.3456);
    const { result } = renderHook(() => usePlayerMetrics(first, reading, { streamId: "ab12", report: true, onFirstFrame }));
    expect(result.current).toMatchObject({ ttffMs: 812, firstFrameAt: Math.round(startedAt + 812.4), latencyS: null });
    expect(onFirstFrame).toHaveBeenCalledTimes(1);
    expect(onFirstFrame.mock.calls[0]?.[0]).toBeCloseTo(812.4, 5);
    await act(async () => vi.advanceTimersByTime(1000));
    expect(result.current.latencyS).toBe(2.35);
    expect(posted(calls)).toEqual([{ ttffMs: 812, rendition: "720p", sessionId: playerSessionId }]);
    reading.latencyNow = 1.5;
    await act(async () => vi.advanceTimersByTime(LATENCY_REPORT_AFTER_MS));
    expect(result.current.latencyS).toBe(1.5);
    await act(async () => vi.advanceTimersByTime(30_000));
    expect(posted(calls)).toEqual([
      { ttffMs: 812, rendition: "720p", sessionId: playerSessionId },
      { latencyMs: 1500, rendition: "720p", sessionId: playerSessionId },
    ]);
  });

  it("reports the playback quality every so often and when the attempt ends", async () => {
    const { calls } = fakeFetch({ "POST /api/streams/ab12/metrics": () => ({ status: 202 }) });
    const video = fakeVideo({ paused: false, currentTime: 20, buffered: [[18, 22.5]] });
    const reading = { ...probe(2), throughput: () => 6_400_000 };
    const startedAt = performance.now();
    const first: FirstFrame = { startedAt, at: startedAt + 500 };
    const { rerender } = renderHook(({ frame }) => usePlayerMetrics(frame, reading, { streamId: "ab12", report: true, video: { current: video.element } }), {
      initialProps: { frame: first as FirstFrame | null },
    });
    // The join report says the session counts its own stalls (none yet).
    expect(posted(calls)[0]).toEqual({
      ttffMs: 500, rendition: "720p", sessionId: playerSessionId, stalls: 0, watchedMs: 0, bufferMs: 2500, throughputKbps: 6400,
    });
    await act(async () => vi.advanceTimersByTime(12_000));
    act(() => video.fire("waiting")); // a stall, 3 s long
    await act(async () => vi.advanceTimersByTime(3000));
    act(() => video.fire("playing"));
    video.now.buffered = [[18, 21]];
    await act(async () => vi.advanceTimersByTime(QUALITY_REPORT_MS - 15_000));
    const quality = posted(calls).filter((body) => (body as { watchedMs?: number }).watchedMs !== undefined);
    expect(quality).toHaveLength(2);
    expect(quality[1]).toEqual({ sessionId: playerSessionId, rendition: "720p", stalls: 1, watchedMs: 27_000, bufferMs: 1000, throughputKbps: 6400 });
    await act(async () => vi.advanceTimersByTime(5000));
    rerender({ frame: null }); // the attempt ended: the last slice goes
    const last = posted(calls).at(-1) as { stalls: number; watchedMs: number };
    expect([last.stalls, last.watchedMs]).toEqual([0, 5000]);
  });

  it("keeps its figures to itself when told not to report", async () => {
    const { calls } = fakeFetch({ "POST /api/streams/ab12/metrics": () => ({ status: 204 }) });
    const startedAt = performance.now();
    const { result } = renderHook(() =>
      usePlayerMetrics({ startedAt, at: startedAt + 100 }, probe(3), { streamId: "ab12", report: false }),
    );
    await act(async () => vi.advanceTimersByTime(LATENCY_REPORT_AFTER_MS + 2000));
    expect(result.current).toMatchObject({ ttffMs: 100, latencyS: 3 });
    expect(calls).toHaveLength(0);
  });

  it("stops sampling when the attempt is over, and keeps the last figures", async () => {
    fakeFetch({ "POST /api/streams/ab12/metrics": () => ({ status: 204 }) });
    const startedAt = performance.now();
    const reading = probe(4);
    const { result, rerender } = renderHook(({ first }) => usePlayerMetrics(first, reading, { streamId: "ab12", report: false }), {
      initialProps: { first: { startedAt, at: startedAt + 50 } as FirstFrame | null },
    });
    await act(async () => vi.advanceTimersByTime(1000));
    expect(result.current.latencyS).toBe(4);
    rerender({ first: null }); // a retry began
    reading.latencyNow = 9;
    await act(async () => vi.advanceTimersByTime(5000));
    expect(result.current).toMatchObject({ ttffMs: 50, latencyS: 4 });
  });
});
