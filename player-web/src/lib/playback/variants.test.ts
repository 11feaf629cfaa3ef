import { describe, expect, it } from "vitest";
import type { Level } from "hls.js";
import { renditionsOf } from "./hlsJsEngine";
import { isAudioOnly, menuOf, parseMultivariant, renditionName, variantLabel } from "./variants";

const BASE = "http://media.example/hls/ab12/index.m3u8";

const LADDER = `#EXTM3U
#EXT-X-VERSION:6
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="audio",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="/hls/ab12/s1/audio/index.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=6128000,AVERAGE-BANDWIDTH=6000000,CODECS="avc1.64002a,mp4a.40.2",RESOLUTION=1920x1080,FRAME-RATE=60.000,AUDIO="aud"
/hls/ab12/s1/source/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=2928000,AVERAGE-BANDWIDTH=2900000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=1280x720,FRAME-RATE=30.000,AUDIO="aud"
/hls/ab12/s1/720p/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=1328000,CODECS="avc1.64001e,mp4a.40.2",RESOLUTION=854x480,FRAME-RATE=30.000,AUDIO="aud"
480p/index.m3u8
`;

const AUDIO_ONLY = `#EXTM3U
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="audio",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="/hls/ab12/s2/audio/index.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=140000,AVERAGE-BANDWIDTH=130000,CODECS="mp4a.40.2"
/hls/ab12/s2/audio/index.m3u8
`;

describe("parseMultivariant", () => {
  it("reads each variant's playlist, size, frame rate, bandwidth and codecs", () => {
    const variants = parseMultivariant(LADDER, BASE);
    expect(variants.map((v) => v.uri)).toEqual([
      "http://media.example/hls/ab12/s1/source/index.m3u8",
      "http://media.example/hls/ab12/s1/720p/index.m3u8",
      "http://media.example/hls/ab12/480p/index.m3u8", // relative to the multivariant playlist
    ]);
    expect(variants[0]).toMatchObject({ height: 1080, frameRate: 60, bitrate: 6128000, codecs: "avc1.64002a,mp4a.40.2" });
    expect(parseMultivariant("#EXTM3U\n", BASE)).toEqual([]);
  });

  it("sees an audio-only variant for what it is", () => {
    const [audio] = parseMultivariant(AUDIO_ONLY, BASE);
    expect(audio).toBeDefined();
    expect(isAudioOnly(audio!)).toBe(true);
    expect(variantLabel(audio!)).toBe("Audio only");
    expect(isAudioOnly({ height: 0, codecs: "avc1.64001f,mp4a.40.2" })).toBe(false);
    expect(isAudioOnly({ height: 0, codecs: "" })).toBe(false);
  });
});

describe("the quality menu", () => {
  it("names renditions by what they are, the source as such", () => {
    expect(menuOf(parseMultivariant(LADDER, BASE)).map((r) => r.label)).toEqual(["1080p60 (source)", "720p", "480p"]);
  });

  it("lists a rung that equals the source once, as the source", () => {
    const menu = menuOf([
      { uri: "http://m/hls/x/720p/index.m3u8", height: 720, frameRate: 30, bitrate: 2_800_000, codecs: "" },
      { uri: "http://m/hls/x/source/index.m3u8", height: 720, frameRate: 29.97, bitrate: 2_400_000, codecs: "" },
      { uri: "http://m/hls/x/360p/index.m3u8", height: 360, frameRate: 30, bitrate: 700_000, codecs: "" },
    ]);
    expect(menu.map((r) => [r.label, r.id])).toEqual([
      ["720p (source)", "http://m/hls/x/source/index.m3u8"],
      ["360p", "http://m/hls/x/360p/index.m3u8"],
    ]);
  });

  it("is built from hls.js levels the same way", () => {
    const level = (uri: string, height: number, frameRate: number, bitrate: number, codecs: string) =>
      ({ uri, height, frameRate, bitrate, codecs, videoCodec: undefined, audioCodec: undefined }) as unknown as Level;
    const renditions = renditionsOf([
      level("http://m/hls/x/480p/index.m3u8", 480, 30, 1_200_000, "avc1.64001e"),
      level("http://m/hls/x/source/index.m3u8", 1080, 59.94, 6_000_000, "avc1.64002a,mp4a.40.2"),
    ]);
    expect(renditions).toEqual([
      { id: "http://m/hls/x/source/index.m3u8", label: "1080p60 (source)", audioOnly: false },
      { id: "http://m/hls/x/480p/index.m3u8", label: "480p", audioOnly: false },
    ]);
  });
});

describe("renditionName", () => {
  it("is the media playlist's folder, as the server's metrics name it", () => {
    expect(renditionName("https://live.example.org/hls/ab12/s3ss10n/720p/index.m3u8")).toBe("720p");
    expect(renditionName("/hls/ab12/s3ss10n/source/index.m3u8?_HLS_msn=3")).toBe("source");
    expect(renditionName("/hls/ab12/s/720p/seg1.m4s")).toBe("");
    expect(renditionName("")).toBe("");
  });
});
