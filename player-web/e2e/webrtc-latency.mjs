// Glass-to-glass latency in Debian's headless Chromium for bench/webrtc_latency.py. Pictures
// carry the wall clock drawn before they were encoded (clock-stamp.js); the viewer reads it
// back from each decoded frame and subtracts it from its own Date.now() (one machine, one
// clock), the same way whatever the path.
//
//   node e2e/webrtc-latency.mjs view --kind hls|whep --url URL [--seconds 10] [--settle 2]
//     Plays LL-HLS (hls.js, lowLatencyMode) or WHEP (POST an SDP offer, 201 + answer, DELETE
//     the Location at the end) and prints one JSON report: latencies in ms, frames, misreads.
//   node e2e/webrtc-latency.mjs publish-whip --url URL --key KEY [--seconds 600]
//     Publishes a canvas.captureStream(30) with the stamp from Date.now() drawn each frame and
//     an oscillator's audio over WHIP (Bearer KEY); prints {"event":"publishing"} once the
//     server answered 201, then runs until --seconds pass or stdin closes, then DELETEs.
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { launchChromium } from "./chromium.mjs";

const require = createRequire(import.meta.url);
const STAMP = fileURLToPath(new URL("./clock-stamp.js", import.meta.url));
const [mode, ...args] = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const url = option("--url");
const seconds = Number(option("--seconds", mode === "view" ? "10" : "600"));
if (!url || !["view", "publish-whip"].includes(mode)) {
  console.error("usage: node e2e/webrtc-latency.mjs view|publish-whip --url URL [options]");
  process.exit(2);
}

const browser = await launchChromium({ webrtc: true });

async function openPage() {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  // The daemon's own origin: WHIP/WHEP fetches and hls.js requests are same-origin.
  await page.goto(new URL("/healthz", url).href);
  await page.setContent('<video id="v" muted autoplay playsinline></video>');
  await page.addScriptTag({ path: STAMP });
  return { page, errors };
}

// In the page: wait until ICE gathering is complete (the server takes no trickled candidates).
const pageHelpers = `
  window.gathered = (pc) => new Promise((resolve) => {
    if (pc.iceGatheringState === "complete") return resolve();
    const done = () => pc.iceGatheringState === "complete" && resolve();
    pc.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, 3000);
  });
  window.exchange = async (pc, endpoint, headers, editAnswer = (sdp) => sdp) => {
    await pc.setLocalDescription(await pc.createOffer());
    await window.gathered(pc);
    const response = await fetch(endpoint, { method: "POST",
      headers: { "Content-Type": "application/sdp", ...headers }, body: pc.localDescription.sdp });
    const body = await response.text();
    if (response.status !== 201) throw new Error("POST " + endpoint + ": " + response.status + " " + body);
    const location = new URL(response.headers.get("Location"), endpoint).href;
    await pc.setRemoteDescription({ type: "answer", sdp: editAnswer(body) });
    return location;
  };
`;

async function view() {
  const kind = option("--kind", "hls");
  const settleMs = Number(option("--settle", "2")) * 1000;
  const startTimeoutMs = Number(option("--start-timeout", "30")) * 1000;
  const { page, errors } = await openPage();
  if (kind === "hls") await page.addScriptTag({ path: require.resolve("hls.js/dist/hls.min.js") });
  await page.addScriptTag({ content: pageHelpers });
  await page.evaluate(async ({ kind, src }) => {
    const video = document.getElementById("v");
    const report = { latencies: [], frames: 0, misreads: 0, firstFrameAt: null, errors: [] };
    window.report = report;
    const canvas = document.createElement("canvas");
    const context = canvas.getContext("2d", { willReadFrequently: true });
    const onFrame = () => {
      const now = Date.now();
      const width = video.videoWidth;
      const band = window.clockStamp.bandHeight(video.videoHeight);
      if (width && band) {
        if (canvas.width !== width || canvas.height !== band) {
          canvas.width = width;
          canvas.height = band;
        }
        context.drawImage(video, 0, 0, width, band, 0, 0, width, band);
        const stamp = window.clockStamp.read(context.getImageData(0, 0, width, band).data, width, band);
        report.frames += 1;
        if (report.firstFrameAt === null) report.firstFrameAt = now;
        // A checksum that passes by chance on garbage gives an absurd age: dropped too.
        const age = stamp === null ? null : window.clockStamp.latencyMs(now, stamp);
        if (age === null || age > 60000) report.misreads += 1;
        else report.latencies.push([now, age]);
      }
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
    if (kind === "hls") {
      const hls = new window.Hls({ lowLatencyMode: true, liveDurationInfinity: true });
      hls.on(window.Hls.Events.ERROR, (_e, data) => data.fatal && report.errors.push(data.details));
      hls.loadSource(src);
      hls.attachMedia(video);
      hls.on(window.Hls.Events.MANIFEST_PARSED, () => video.play().catch(() => {}));
      // bench/llhls_latency.py's figure beside ours: Date.now() - hls.playingDate (PDT being
      // the ingest wall clock), every 500 ms like tests/interop/hlsjs/play.mjs.
      report.hlsjs = [];
      setInterval(() => {
        if (hls.playingDate) report.hlsjs.push([Date.now(), Date.now() - hls.playingDate.getTime()]);
      }, 500);
      window.stopPlayback = async () => hls.destroy();
    } else {
      const pc = new RTCPeerConnection();
      pc.addTransceiver("video", { direction: "recvonly" });
      pc.addTransceiver("audio", { direction: "recvonly" });
      const stream = new MediaStream();
      pc.ontrack = (event) => {
        stream.addTrack(event.track);
        video.srcObject = stream;
        video.play().catch(() => {});
      };
      const location = await window.exchange(pc, src, {});
      window.peer = pc;
      window.stopPlayback = async () => {
        report.deleteStatus = (await fetch(location, { method: "DELETE" })).status;
        pc.close();
      };
    }
  }, { kind, src: url });

  const started = Date.now();
  while ((await page.evaluate(() => window.report.firstFrameAt)) === null) {
    if (Date.now() - started > startTimeoutMs) break;
    await page.waitForTimeout(100);
  }
  await page.waitForTimeout(settleMs + seconds * 1000);
  const stats = await page.evaluate(async () => {
    if (!window.peer) return null;
    const out = {};
    (await window.peer.getStats()).forEach((s) => {
      if (s.type === "inbound-rtp") out[s.kind] = { packetsReceived: s.packetsReceived,
        packetsLost: s.packetsLost, framesDecoded: s.framesDecoded, framesDropped: s.framesDropped,
        nackCount: s.nackCount, jitterBufferDelay: s.jitterBufferDelay,
        jitterBufferEmittedCount: s.jitterBufferEmittedCount };
    });
    return out;
  });
  await page.evaluate(() => window.stopPlayback());
  const report = await page.evaluate(() => window.report);
  const from = (report.firstFrameAt ?? 0) + settleMs;
  console.log(JSON.stringify({
    kind,
    started: report.firstFrameAt !== null,
    startMs: report.firstFrameAt === null ? null : report.firstFrameAt - started,
    latencies: report.latencies.filter(([at]) => at >= from).map(([, age]) => age),
    hlsjsLatencies: (report.hlsjs ?? []).filter(([at]) => at >= from).map(([, age]) => age),
    frames: report.frames,
    misreads: report.misreads,
    fatalErrors: report.errors,
    deleteStatus: report.deleteStatus ?? null,
    stats,
    pageErrors: errors,
  }));
}

async function publishWhip() {
  const key = option("--key");
  const width = Number(option("--width", "640"));
  const height = Number(option("--height", "360"));
  const { page, errors } = await openPage();
  await page.addScriptTag({ content: pageHelpers });
  await page.evaluate(async ({ src, key, width, height }) => {
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    const context = canvas.getContext("2d");
    let index = 0;
    // Scrolling stripes for motion, then the stamp of the moment the picture is drawn.
    const draw = () => {
      for (let x = -64; x < width + height; x += 32) {
        context.fillStyle = (Math.floor(x / 32) + index) % 2 ? "#c8c8c8" : "#282828";
        context.beginPath();
        context.moveTo(x + (index * 4) % 64, 0);
        context.lineTo(x + 32 + (index * 4) % 64, 0);
        context.lineTo(x + 32 + (index * 4) % 64 - height, height);
        context.lineTo(x + (index * 4) % 64 - height, height);
        context.fill();
      }
      window.clockStamp.paint(context, width, height, Date.now());
      index += 1;
    };
    draw();
    setInterval(draw, 1000 / 30);
    const video = canvas.captureStream(30);
    const audio = new AudioContext();
    const tone = audio.createOscillator();
    const sink = audio.createMediaStreamDestination();
    tone.connect(sink);
    tone.start();
    await audio.resume();
    const pc = new RTCPeerConnection();
    const sender = pc.addTransceiver(video.getVideoTracks()[0], { direction: "sendonly" });
    pc.addTransceiver(sink.stream.getAudioTracks()[0], { direction: "sendonly" });
    // H.264 first, Constrained Baseline packetization-mode 1 before the rest (what OBS offers).
    const rank = (c) => (c.mimeType !== "video/H264" ? 2
      : /packetization-mode=1/.test(c.sdpFmtpLine || "") && /42e01f/.test(c.sdpFmtpLine || "") ? 0 : 1);
    const codecs = RTCRtpSender.getCapabilities("video").codecs.slice().sort((a, b) => rank(a) - rank(b));
    sender.setCodecPreferences(codecs);
    // Like an encoder set to a bitrate and size (OBS, the RTMP publisher's 1.5 Mbit/s at
    // 640x360): Chromium's bandwidth estimate would start near 300 kbit/s and scale the picture
    // down; its own fmtp parameters in the answer hold the rate up, the preference the size.
    const parameters = sender.sender.getParameters();
    parameters.degradationPreference = "maintain-resolution";
    await sender.sender.setParameters(parameters);
    const holdRate = (sdp) => sdp.replace(/^(a=fmtp:\d+ [^\r\n]*packetization-mode=[^\r\n]*)/gm,
      "$1;x-google-start-bitrate=1500;x-google-min-bitrate=1000;x-google-max-bitrate=1500");
    window.peer = pc;
    window.location_ = await window.exchange(pc, src, { Authorization: "Bearer " + key }, holdRate);
  }, { src: url, key, width, height });
  console.log(JSON.stringify({ event: "publishing" }));

  await new Promise((resolve) => {
    const timer = setTimeout(resolve, seconds * 1000);
    process.stdin.on("end", () => { clearTimeout(timer); resolve(); });
    process.stdin.resume();
  });
  const stats = await page.evaluate(async () => {
    const out = {};
    (await window.peer.getStats()).forEach((s) => {
      if (s.type === "outbound-rtp") out[s.kind] = { packetsSent: s.packetsSent,
        framesEncoded: s.framesEncoded, encoderImplementation: s.encoderImplementation,
        frameWidth: s.frameWidth, frameHeight: s.frameHeight, framesPerSecond: s.framesPerSecond,
        qualityLimitationReason: s.qualityLimitationReason };
    });
    const status = (await fetch(window.location_, { method: "DELETE" })).status;
    window.peer.close();
    return { ...out, deleteStatus: status };
  });
  console.log(JSON.stringify({ event: "ended", stats, pageErrors: errors }));
}

try {
  if (mode === "view") await view();
  else await publishWhip();
} finally {
  await browser.close();
}
