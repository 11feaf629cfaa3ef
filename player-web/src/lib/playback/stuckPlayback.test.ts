import { describe, expect, it } from "vitest";
import { RESEEK_STEP_S, STUCK_AFTER_MS, StuckPlaybackWatch, type Playhead } from "./stuckPlayback";

function ranges(...spans: [number, number][]): TimeRanges {
  const at = (i: number): [number, number] => spans[i] ?? [Number.NaN, Number.NaN];
  return { length: spans.length, start: (i: number) => at(i)[0], end: (i: number) => at(i)[1] };
}

/** WebKitGTK's element as seen stopped at a live stream's start: readyState 1, 30 s ahead. */
function stoppedElement(overrides: Partial<Playhead> = {}): Playhead {
  return { paused: false, ended: false, readyState: 1, buffered: ranges([0, 30.97]), currentTime: 0.6, ...overrides };
}

function watching(element: Playhead) {
  const clock = { now: 0 };
  const watch = new StuckPlaybackWatch(element, () => clock.now);
  const after = (ms: number) => {
    for (let t = 0; t < ms; t += 500) {
      clock.now += 500;
      watch.check();
    }
  };
  watch.check();
  return { watch, after };
}

describe("StuckPlaybackWatch", () => {
  it("seeks on from a playhead stopped with its picture buffered, once it has been stopped a while", () => {
    const element = stoppedElement();
    const { watch, after } = watching(element);
    after(STUCK_AFTER_MS - 500);
    expect(element.currentTime).toBe(0.6);
    after(500);
    expect(element.currentTime).toBeCloseTo(0.6 + RESEEK_STEP_S);
    expect(watch.reseeks).toBe(1);
    // Still stopped after that seek: another, no sooner than the first.
    after(STUCK_AFTER_MS - 500);
    expect(watch.reseeks).toBe(1);
    after(500);
    expect(watch.reseeks).toBe(2);
  });

  it("leaves alone a playhead that moves, waits for data, is paused, has ended or plays", () => {
    const moving = stoppedElement();
    const { watch, after } = watching(moving);
    for (let i = 0; i < 20; i += 1) {
      moving.currentTime += 0.5;
      after(500);
    }
    expect(watch.reseeks).toBe(0);
    for (const element of [
      stoppedElement({ buffered: ranges([0, 1.2]) }), // less than a second ahead: waiting for data
      stoppedElement({ buffered: ranges([2, 30]) }), // nothing where it stands
      stoppedElement({ paused: true }),
      stoppedElement({ ended: true }),
      stoppedElement({ readyState: 4 }), // it has the frames it needs: some other wait
    ]) {
      const idle = watching(element);
      idle.after(STUCK_AFTER_MS * 3);
      expect(idle.watch.reseeks).toBe(0);
      expect(element.currentTime).toBe(0.6);
    }
  });
});
