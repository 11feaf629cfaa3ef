import { describe, expect, it } from "vitest";
import { fakeVideo } from "../../test/fakeVideo";
import { PlaybackQuality, bufferAhead } from "./playbackQuality";

describe("PlaybackQuality", () => {
  it("counts stalls while playing and the time spent playing, slice by slice", () => {
    const clock = { ms: 1000 };
    const { element, now, fire } = fakeVideo({ paused: false });
    const quality = new PlaybackQuality(element, () => clock.ms);
    clock.ms += 4000;
    fire("waiting"); // a stall: the picture stopped
    clock.ms += 1500; // stalled: no viewing time
    fire("waiting"); // still the same stall
    fire("playing");
    clock.ms += 2000;
    expect(quality.take()).toEqual({ stalls: 1, watchedMs: 6000 });
    clock.ms += 3000;
    now.seeking = true;
    fire("seeking");
    fire("waiting"); // a seek's wait is no stall
    now.seeking = false;
    fire("playing");
    clock.ms += 1000;
    fire("pause");
    clock.ms += 60_000; // paused: no viewing time
    expect(quality.take()).toEqual({ stalls: 0, watchedMs: 4000 });
    quality.stop();
    fire("playing");
    clock.ms += 5000;
    expect(quality.take()).toEqual({ stalls: 0, watchedMs: 0 });
  });

  it("counts nothing before playback began", () => {
    const clock = { ms: 0 };
    const { element, fire } = fakeVideo({ paused: true });
    const quality = new PlaybackQuality(element, () => clock.ms);
    fire("waiting");
    clock.ms += 3000;
    expect(quality.take()).toEqual({ stalls: 0, watchedMs: 0 });
  });

  it("reads the buffer ahead of the playhead", () => {
    expect(bufferAhead(fakeVideo({ currentTime: 10, buffered: [[0, 4], [9.5, 12.25]] }).element)).toBeCloseTo(2.25);
    expect(bufferAhead(fakeVideo({ currentTime: 10, buffered: [[0, 4]] }).element)).toBeNull();
    expect(bufferAhead(fakeVideo().element)).toBeNull();
  });
});
