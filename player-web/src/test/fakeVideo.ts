// A <video> whose playback state a test sets (jsdom plays nothing): playing or paused,
// seeking, the playhead and the buffered ranges; `fire` dispatches a media event.
export interface VideoState {
  paused: boolean;
  seeking: boolean;
  currentTime: number;
  buffered: [number, number][];
}

export function fakeVideo(state: Partial<VideoState> = {}) {
  const element = document.createElement("video");
  const now: VideoState = { paused: true, seeking: false, currentTime: 0, buffered: [], ...state };
  Object.defineProperty(element, "paused", { get: () => now.paused });
  Object.defineProperty(element, "seeking", { get: () => now.seeking });
  Object.defineProperty(element, "currentTime", { get: () => now.currentTime });
  Object.defineProperty(element, "buffered", {
    get: () => ({ length: now.buffered.length, start: (i: number) => now.buffered[i]![0], end: (i: number) => now.buffered[i]![1] }),
  });
  const fire = (name: string) => element.dispatchEvent(new Event(name));
  return { element, now, fire };
}
