import { describe, expect, it } from "vitest";
import { latencyEstimate, mediaArrived, readStats, type StatsSample } from "./webrtcStats";

const report = (...entries: Record<string, unknown>[]) => new Map(entries.map((entry) => [entry.id, entry])) as unknown as RTCStatsReport;

const video = (delay: number, emitted: number, extra: Record<string, unknown> = {}) => ({
  id: "IV",
  type: "inbound-rtp",
  kind: "video",
  jitterBufferDelay: delay,
  jitterBufferEmittedCount: emitted,
  framesDecoded: emitted,
  frameHeight: 720,
  ...extra,
});
const audio = { id: "IA", type: "inbound-rtp", kind: "audio", jitterBufferDelay: 3, jitterBufferEmittedCount: 50, packetsReceived: 50 };

describe("readStats", () => {
  it("reads the video's jitter buffer, the picture and the selected pair's round trip", () => {
    const sample = readStats(
      report(
        video(4, 100),
        audio,
        { id: "T", type: "transport", selectedCandidatePairId: "P2" },
        { id: "P1", type: "candidate-pair", nominated: true, state: "succeeded", currentRoundTripTime: 0.5 },
        { id: "P2", type: "candidate-pair", nominated: true, state: "succeeded", currentRoundTripTime: 0.04 },
      ),
    );
    expect(sample).toEqual({ jitterDelayS: 4, jitterEmitted: 100, roundTripS: 0.04, framesDecoded: 100, audioPackets: 50, frameHeight: 720 });
  });

  it("falls back to the audio's buffer and a nominated pair when the browser names none", () => {
    const sample = readStats(
      report(video(0, 0), audio, { id: "P", type: "candidate-pair", nominated: true, state: "succeeded", currentRoundTripTime: 0.1 }),
    );
    expect(sample).toMatchObject({ jitterDelayS: 3, jitterEmitted: 50, roundTripS: 0.1, framesDecoded: 0 });
    expect(readStats(report()).roundTripS).toBeNull();
  });
});

describe("latencyEstimate", () => {
  const sample = (jitterDelayS: number, jitterEmitted: number, roundTripS: number | null): StatsSample => ({
    jitterDelayS,
    jitterEmitted,
    roundTripS,
    framesDecoded: jitterEmitted,
    audioPackets: 0,
    frameHeight: 720,
  });

  it("is the buffer's mean hold plus half the round trip", () => {
    expect(latencyEstimate(null, sample(5, 100, 0.04))).toBeCloseTo(0.05 + 0.02);
  });

  it("follows the buffer over the last interval, not since the start", () => {
    const before = sample(50, 100, 0.02); // 0.5 s a frame while it started
    expect(latencyEstimate(before, sample(53, 130, 0.02))).toBeCloseTo(0.1 + 0.01);
    // Nothing emitted meanwhile: the mean since the start stands.
    expect(latencyEstimate(before, sample(50, 100, null))).toBeCloseTo(0.5);
  });

  it("has nothing to say before the buffer has emitted", () => {
    expect(latencyEstimate(null, sample(0, 0, 0.03))).toBeNull();
  });
});

describe("mediaArrived", () => {
  it("wants a decoded picture when video was answered, sound otherwise", () => {
    const soundOnly: StatsSample = { jitterDelayS: 1, jitterEmitted: 10, roundTripS: null, framesDecoded: 0, audioPackets: 10, frameHeight: 0 };
    expect(mediaArrived(soundOnly, true)).toBe(false);
    expect(mediaArrived(soundOnly, false)).toBe(true);
    expect(mediaArrived({ ...soundOnly, framesDecoded: 1 }, true)).toBe(true);
  });
});
