// Recordings as the API describes them (docs/openapi.yaml), for the tests of what shows them.
import type { Recording, Replay } from "../lib/types";

export function recording(overrides: Partial<Recording> = {}): Recording {
  const id = overrides.id ?? "r1";
  return {
    id,
    streamId: "s1",
    kind: "broadcast",
    title: "Friday jam",
    state: "complete",
    interrupted: false,
    startedAt: "2026-11-27T20:00:00.000Z",
    endedAt: "2026-11-27T21:02:05.000Z",
    durationSec: 3725,
    sizeBytes: 2_400_000_000,
    renditions: [
      { name: "source", width: 1280, height: 720, codecs: "avc1.64001f", bandwidth: 3_000_000 },
      { name: "audio", width: 0, height: 0, codecs: "mp4a.40.2", bandwidth: 128_000 },
    ],
    posterUrl: `/vod/${id}/poster.jpg`,
    playbackUrl: `/vod/${id}/index.m3u8`,
    downloadUrl: `/vod/${id}/download.mp4`,
    createdBy: null,
    ...overrides,
  };
}

export function clip(overrides: Partial<Recording> = {}): Recording {
  return recording({ id: "c1", kind: "clip", title: "the goal", durationSec: 30, sizeBytes: 9_000_000, createdBy: "vic", ...overrides });
}

export function replay(overrides: Partial<Replay> = {}): Replay {
  return { ...recording(overrides), streamTitle: "Jam nights", creator: { handle: "carla", displayName: "Carla" }, ...overrides };
}
