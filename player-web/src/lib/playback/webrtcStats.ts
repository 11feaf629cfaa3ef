// What the WebRTC engine reads of `RTCPeerConnection.getStats()`: whether media arrives, the
// picture's height, and a latency estimate. WebRTC has no live edge to measure against, so
// the estimate is the part of the delay the receiver can see: the jitter buffer's mean hold
// (inbound-rtp jitterBufferDelay / jitterBufferEmittedCount) plus half the round trip of the
// selected candidate pair (one-way network time). The sender's encode and capture are not in it.

/** One getStats() reading, reduced to what the engine uses. */
export interface StatsSample {
  /** Seconds the jitter buffer has held what it emitted (cumulative), and how many it emitted:
   * of the video when it has emitted any, else of the audio. */
  jitterDelayS: number;
  jitterEmitted: number;
  /** The selected candidate pair's round trip (s), when known. */
  roundTripS: number | null;
  framesDecoded: number;
  audioPackets: number;
  frameHeight: number;
}

type Stats = Record<string, unknown> & { type: string; id: string };

const num = (value: unknown): number => (typeof value === "number" && Number.isFinite(value) ? value : 0);

/** The pair the transport uses: the one it names, else a nominated pair that succeeded. */
function selectedPair(all: Stats[]): Stats | undefined {
  const byId = new Map(all.map((stats) => [stats.id, stats]));
  for (const stats of all) {
    if (stats.type !== "transport" || typeof stats.selectedCandidatePairId !== "string") continue;
    const pair = byId.get(stats.selectedCandidatePairId);
    if (pair) return pair;
  }
  return all.find((stats) => stats.type === "candidate-pair" && stats.nominated === true && stats.state === "succeeded");
}

export function readStats(report: RTCStatsReport): StatsSample {
  const all: Stats[] = [];
  report.forEach((stats: Stats) => all.push(stats));
  const inbound = (kind: string) => all.find((stats) => stats.type === "inbound-rtp" && stats.kind === kind);
  const video = inbound("video");
  const audio = inbound("audio");
  const buffered = video && num(video.jitterBufferEmittedCount) > 0 ? video : audio;
  const rtt = selectedPair(all)?.currentRoundTripTime;
  return {
    jitterDelayS: num(buffered?.jitterBufferDelay),
    jitterEmitted: num(buffered?.jitterBufferEmittedCount),
    roundTripS: typeof rtt === "number" && Number.isFinite(rtt) ? rtt : null,
    framesDecoded: num(video?.framesDecoded),
    audioPackets: num(audio?.packetsReceived),
    frameHeight: num(video?.frameHeight),
  };
}

/** Network + jitter-buffer latency (s) now: the buffer's mean hold since `previous` (since the
 * start when there is none, or nothing was emitted meanwhile), plus half the round trip.
 * Null until the buffer has emitted something. */
export function latencyEstimate(previous: StatsSample | null, now: StatsSample): number | null {
  const emitted = previous ? now.jitterEmitted - previous.jitterEmitted : 0;
  const recent = previous !== null && emitted > 0;
  const count = recent ? emitted : now.jitterEmitted;
  if (count <= 0) return null;
  const held = (recent ? now.jitterDelayS - previous.jitterDelayS : now.jitterDelayS) / count;
  return Math.max(0, held) + (now.roundTripS ?? 0) / 2;
}

/** Whether media has arrived: a decoded picture, or (for a stream without one) sound. */
export function mediaArrived(sample: StatsSample, expectVideo: boolean): boolean {
  return expectVideo ? sample.framesDecoded > 0 : sample.audioPackets > 0;
}
