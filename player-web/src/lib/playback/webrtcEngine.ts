// Real-time playback over WebRTC (WHEP): one receive-only peer connection, its remote tracks
// on the <video> as one MediaStream. The session is ended (DELETE) when the engine stops and
// when the page is hidden, and opened again if the page comes back from the back/forward
// cache. A refusal, a failed connection, or no media within NO_MEDIA_MS is reported through
// onFailed: the player falls back to LL-HLS then. The server picks the rendition.
import type { Engine, PlaybackEngine, StartEngine } from "./engine";
import { watchFirstFrame } from "./firstFrame";
import { latencyEstimate, mediaArrived, readStats, type StatsSample } from "./webrtcStats";
import { deleteSession, ICE_GATHERING_MS, iceGathered, postOffer, WhepError } from "./whepClient";

/** How long a hung-up peer waits for its DELETE's answer before it closes anyway. */
export const DELETE_WAIT_MS = 2000;

/** A session that has shown nothing this long after its offer counts as failed. */
export const NO_MEDIA_MS = 8000;
export const STATS_INTERVAL_MS = 1000;

/** The ICE servers each WHEP endpoint last offered (its `Link` headers): the next session's
 * offer is gathered with them (the first one learns them only with its answer). */
const knownIceServers = new Map<string, RTCIceServer[]>();

export function webrtcSupported(): boolean {
  return typeof globalThis.RTCPeerConnection === "function" && typeof globalThis.MediaStream === "function";
}

/** Whether the answer sends a picture: a video section with a port, not inactive or recvonly. */
export function answerSendsVideo(sdp: string): boolean {
  return sdp
    .split(/\r?\n(?=m=)/)
    .some((section) => /^m=video [1-9]/.test(section) && !/^a=(inactive|recvonly)\s*$/m.test(section));
}

const start: StartEngine = async (element, source, events, signal) => {
  const url = source.whepUrl;
  if (!url || !webrtcSupported() || signal.aborted) return null;
  let stopped = false;
  let pc: RTCPeerConnection | null = null;
  let session: AbortController | null = null;
  let location: string | null = null;
  let noMedia: ReturnType<typeof setTimeout> | null = null;
  let statsTimer: ReturnType<typeof setInterval> | null = null;
  let stopWatching: (() => void) | null = null;
  let previous: StatsSample | null = null;
  let latency: number | null = null;
  let height = 0;

  /** Ends the current session (not the engine): timers, the peer, the server's side. */
  const hangUp = () => {
    session?.abort();
    session = null;
    if (noMedia) clearTimeout(noMedia);
    if (statsTimer) clearInterval(statsTimer);
    noMedia = statsTimer = null;
    stopWatching?.();
    stopWatching = null;
    // DELETE first, the peer closed once it is answered: closed first, the server would see
    // the connection go and end the session itself, and the DELETE would find none (404).
    const peer = pc;
    pc = null;
    if (location) {
      const closing = setTimeout(() => peer?.close(), DELETE_WAIT_MS);
      void deleteSession(location).then(() => {
        clearTimeout(closing);
        peer?.close();
      });
    } else {
      peer?.close();
    }
    location = null;
    previous = null;
    latency = null;
  };
  const stop = () => {
    stopped = true;
    hangUp();
    window.removeEventListener("pagehide", onPageHide);
    window.removeEventListener("pageshow", onPageShow);
    element.srcObject = null;
  };
  const fail = (message: string) => {
    if (stopped) return;
    stop();
    events.onFailed(message);
  };

  const connect = async () => {
    const attempt = new AbortController();
    session = attempt;
    const peer = new RTCPeerConnection({ iceServers: knownIceServers.get(url) ?? [], bundlePolicy: "max-bundle" });
    pc = peer;
    let arrived = false;
    let expectVideo = true;
    const remote = new MediaStream();
    peer.addTransceiver("video", { direction: "recvonly" });
    peer.addTransceiver("audio", { direction: "recvonly" });
    // aiortc gives each track a stream of its own: gather them into one for the element.
    peer.addEventListener("track", (event) => {
      if (peer !== pc) return;
      remote.addTrack(event.track);
      if (element.srcObject !== remote) {
        element.srcObject = remote;
        events.onReady();
      }
    });
    peer.addEventListener("connectionstatechange", () => {
      if (peer === pc && peer.connectionState === "failed") fail("The real-time connection failed.");
    });
    stopWatching = watchFirstFrame(element, () => {
      arrived = true;
    });
    noMedia = setTimeout(() => {
      if (!arrived) fail("No picture arrived in real time.");
    }, NO_MEDIA_MS);
    statsTimer = setInterval(() => {
      peer
        .getStats()
        .then((report) => {
          if (peer !== pc) return;
          const sample = readStats(report);
          latency = latencyEstimate(previous, sample) ?? latency;
          previous = sample;
          height = sample.frameHeight || height;
          if (mediaArrived(sample, expectVideo)) arrived = true;
        })
        .catch(() => undefined); // a closed peer: the next session reads its own
    }, STATS_INTERVAL_MS);

    try {
      await peer.setLocalDescription(await peer.createOffer());
      await iceGathered(peer, ICE_GATHERING_MS, attempt.signal);
      if (attempt.signal.aborted) return;
      const answer = await postOffer(url, peer.localDescription?.sdp ?? "", attempt.signal);
      if (attempt.signal.aborted) {
        deleteSession(answer.location); // stopped while the server was answering
        return;
      }
      location = answer.location;
      if (answer.iceServers.length) {
        knownIceServers.set(url, answer.iceServers);
        // For an ICE restart of this session; its offer went without them.
        peer.setConfiguration({ ...peer.getConfiguration(), iceServers: answer.iceServers });
      }
      expectVideo = answerSendsVideo(answer.sdp);
      await peer.setRemoteDescription({ type: "answer", sdp: answer.sdp });
    } catch (caught) {
      if (attempt.signal.aborted) return;
      fail(caught instanceof WhepError ? caught.message : "Real-time playback could not start.");
    }
  };

  // A hidden page may never come back: end the session now, while a request can still go.
  function onPageHide() {
    hangUp();
  }
  function onPageShow(event: PageTransitionEvent) {
    if (event.persisted && !stopped && !pc) void connect();
  }
  window.addEventListener("pagehide", onPageHide);
  window.addEventListener("pageshow", onPageShow);
  events.onRenditions([]); // nothing to choose: the server sends the rendition it picked
  void connect();

  const engine: PlaybackEngine = {
    kind: "webrtc",
    setRendition: () => undefined,
    // After the publisher's gap: a fresh session starts on the new publisher's next keyframe.
    resume: () => {
      if (stopped) return;
      hangUp();
      void connect();
    },
    liveSyncPosition: () => null,
    latency: () => latency,
    currentRendition: () => (height ? `${height}p real-time` : "real-time"),
    destroy: stop,
  };
  return engine;
};

export const webrtcEngine: Engine = { kind: "webrtc", mode: "realtime", start };
