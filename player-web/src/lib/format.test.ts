import { describe, expect, it } from "vitest";
import { formatBytes, formatClock } from "./format";

describe("format", () => {
  it("writes durations as a clock", () => {
    expect(formatClock(0)).toBe("0:00");
    expect(formatClock(8.9)).toBe("0:08");
    expect(formatClock(605)).toBe("10:05");
    expect(formatClock(3725)).toBe("1:02:05");
  });

  it("writes sizes in the units people read", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1500)).toBe("1.5 kB");
    expect(formatBytes(48_200_000)).toBe("48 MB");
    expect(formatBytes(2_400_000_000)).toBe("2.4 GB");
  });
});
