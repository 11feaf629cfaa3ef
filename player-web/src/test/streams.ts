// A stream as GET /api/streams/{id} describes it, for the tests of the pages that show one.
import type { StreamDetail } from "../lib/types";

export function streamDetail(overrides: Partial<StreamDetail> = {}): StreamDetail {
  return {
    id: "s1", title: "Jam nights", posterUrl: "", state: "live", creator: { handle: "carla", displayName: "Carla" }, viewers: 1,
    startAt: null, endedAt: null, ageRestricted: false, dvrWindowSec: 120, slowModeSec: 0, guestsMayChat: true,
    realtimePlayback: false, createdAt: "", updatedAt: "", hlsUrl: "http://localhost/hls/s1/index.m3u8", playerUrl: "",
    thumbnailUrl: "/thumbs/s1.jpg",
    ...overrides,
  };
}
