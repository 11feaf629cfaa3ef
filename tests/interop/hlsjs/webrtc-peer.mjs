// A WebRTC peer in Debian's headless Chromium for the WHIP/WHEP interop tests: Chromium's own
// RTCPeerConnection publishes (WHIP) or plays (WHEP); this script only carries the SDP over
// HTTP (no trickle: the offer is sent once ICE gathering is complete) and samples getStats.
//
//   node webrtc-peer.mjs publish URL --token KEY [--seconds N]
//     The fake camera (640x360, 30 fps) and fake microphone, video forced to H.264 with
//     setCodecPreferences, POSTed to the WHIP URL with the Bearer KEY.
//   node webrtc-peer.mjs watch URL [--seconds N]
//     A recvonly video + audio offer POSTed to the WHEP URL; the answer's media plays in a
//     <video>, and each presented frame is counted with requestVideoFrameCallback.
//
// Prints JSON lines: {"event":"answered","status":201,"location":...} once the server
// answered (or {"event":"refused","status":...,"body":...} and exits), then, after N seconds
// of samples (every 500 ms), {"event":"done","samples":[...],"deleteStatus":...}: the
// session is DELETEd at the end, as a WHIP/WHEP client ends it.
import { chromium } from 'playwright-core';

const [mode, url, ...args] = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const seconds = Number(option('--seconds', '10'));
const token = option('--token', null);
if (!url || !['publish', 'watch'].includes(mode)) {
  console.error('usage: node webrtc-peer.mjs publish|watch URL [--token KEY] [--seconds N]');
  process.exit(2);
}
const emit = (record) => console.log(JSON.stringify(record));

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  // play.mjs's flags, plus WebRTC on one machine: no permission prompt, fake capture devices,
  // real host addresses in the candidates rather than mDNS names the server cannot resolve.
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--autoplay-policy=no-user-gesture-required', '--mute-audio',
    '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
    '--disable-features=WebRtcHideLocalIpsWithMdns'],
});
try {
  const page = await browser.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  // getUserMedia needs a secure context: an http://127.0.0.1 page is one, about:blank is not.
  await page.goto(new URL('/healthz', url).href);
  await page.setContent('<video id="v" muted autoplay playsinline></video>');

  const offer = await page.evaluate(async (publishing) => {
    const pc = new RTCPeerConnection();
    window.pc = pc;
    if (publishing) {
      const media = await navigator.mediaDevices.getUserMedia({
        video: { width: 640, height: 360, frameRate: 30 }, audio: true });
      for (const track of media.getTracks()) {
        const transceiver = pc.addTransceiver(track, { direction: 'sendonly' });
        if (track.kind === 'video') {
          // H.264 only (mediad takes no other WHIP video), packetization-mode 1 first.
          const h264 = RTCRtpSender.getCapabilities('video').codecs
            .filter((c) => c.mimeType === 'video/H264')
            .sort((a, b) => Number(/packetization-mode=1/.test(b.sdpFmtpLine))
              - Number(/packetization-mode=1/.test(a.sdpFmtpLine)));
          transceiver.setCodecPreferences(h264);
        }
      }
    } else {
      pc.addTransceiver('video', { direction: 'recvonly' });
      pc.addTransceiver('audio', { direction: 'recvonly' });
      const video = document.getElementById('v');
      window.presented = 0;
      pc.ontrack = (event) => {
        if (!video.srcObject) video.srcObject = new MediaStream();
        video.srcObject.addTrack(event.track);
        video.play().catch(() => {});
      };
      const count = () => { window.presented += 1; video.requestVideoFrameCallback(count); };
      video.requestVideoFrameCallback(count);
    }
    await pc.setLocalDescription();
    // No trickle: wait until every candidate is in the offer.
    await new Promise((resolve) => {
      const done = () => pc.iceGatheringState === 'complete' && resolve();
      pc.addEventListener('icegatheringstatechange', done);
      done();
      setTimeout(resolve, 5000);
    });
    return pc.localDescription.sdp;
  }, mode === 'publish');

  const headers = { 'Content-Type': 'application/sdp' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(url, { method: 'POST', headers, body: offer });
  const body = await response.text();
  if (response.status !== 201) {
    emit({ event: 'refused', status: response.status, body });
  } else {
    const location = new URL(response.headers.get('location'), url).href;
    await page.evaluate((sdp) => window.pc.setRemoteDescription({ type: 'answer', sdp }), body);
    emit({ event: 'answered', status: 201, location });

    const sample = () => page.evaluate(async () => {
      const pc = window.pc;
      const out = { t: Date.now(), connectionState: pc.connectionState,
        presented: window.presented ?? null };
      const stats = await pc.getStats();
      const codecs = {};
      stats.forEach((s) => { if (s.type === 'codec') codecs[s.id] = s.mimeType; });
      stats.forEach((s) => {
        if (s.type !== 'outbound-rtp' && s.type !== 'inbound-rtp') return;
        const keys = ['packetsSent', 'packetsReceived', 'packetsLost', 'nackCount', 'pliCount',
          'firCount', 'framesEncoded', 'keyFramesEncoded', 'framesDecoded', 'keyFramesDecoded',
          'framesDropped', 'retransmittedPacketsSent', 'totalSamplesReceived',
          'concealedSamples', 'frameWidth', 'frameHeight', 'encoderImplementation'];
        const entry = { codec: codecs[s.codecId] ?? null };
        for (const key of keys) if (s[key] !== undefined) entry[key] = s[key];
        out[`${s.kind}`] = entry;
      });
      return out;
    });
    const samples = [];
    const end = Date.now() + seconds * 1000;
    while (Date.now() < end) {
      samples.push(await sample());
      await new Promise((r) => setTimeout(r, 500));
    }
    const deleted = await fetch(location, { method: 'DELETE' });
    await page.evaluate(() => window.pc.close());
    emit({ event: 'done', samples, deleteStatus: deleted.status, pageErrors });
  }
} finally {
  await browser.close();
}
