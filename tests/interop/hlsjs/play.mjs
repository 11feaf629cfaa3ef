// Plays an HLS URL with hls.js (lowLatencyMode) in Debian's headless Chromium and prints one
// JSON report: playback samples, errors, and the end-to-end latency
// (Date.now() - hls.playingDate, where PROGRAM-DATE-TIME is mediad's ingest wall clock).
//
//   node play.mjs URL [--seconds N] [--start-timeout S] [--switch-level-at S] [--mark-color R,G,B]
// --seconds N: sample every 500 ms for N seconds once playback has started (a reconnect test
//   just asks for a longer window).
// --start-timeout S: give up waiting for playback to start after S seconds (report started=false).
// --switch-level-at S: S seconds into sampling, force hls.currentLevel to another rendition.
// --cmcd-headers: hls.js sends CMCD (CTA-5004) in request headers, as the web player does;
//   the page is about:blank, so every request is cross-origin (the CORS preflight must let
//   the CMCD-* headers through).
// --mark-color R,G,B: report as markSeenAt the Date.now() at which the first frame whose
//   average colour is R,G,B was presented (a publisher that sends a plain colour, e.g. a backup
//   encoder taking over).
import { chromium } from 'playwright-core';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const url = args[0];
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const seconds = option('--seconds', 10);
const startTimeout = option('--start-timeout', 20);
const switchAt = option('--switch-level-at', -1);
const markAt = args.indexOf('--mark-color');
const markColor = markAt >= 0 ? args[markAt + 1].split(',').map(Number) : null;
if (!url) {
  console.error('usage: node play.mjs URL [--seconds N] [--start-timeout S] [--switch-level-at S]');
  process.exit(2);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  // The machine has no internet: keep Chromium from reaching for Google's services.
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--autoplay-policy=no-user-gesture-required', '--mute-audio'],
});
try {
  // --ignore-https-errors: a test's own certificate authority (tests/interop/test_tls.py).
  const page = await browser.newPage({ ignoreHTTPSErrors: args.includes('--ignore-https-errors') });
  const consoleErrors = [];
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  await page.setContent('<video id="v" muted playsinline style="width:640px"></video>');
  await page.addScriptTag({ path: require.resolve('hls.js/dist/hls.min.js') });
  const supported = await page.evaluate(() => window.Hls.isSupported());
  if (!supported) throw new Error('hls.js reports MSE unsupported in this Chromium');

  await page.evaluate(({ src, cmcd }) => {
    const video = document.getElementById('v');
    const hls = new window.Hls({
      lowLatencyMode: true, liveDurationInfinity: true,
      ...(cmcd ? { cmcd: { useHeaders: true, sessionId: 'interop-hlsjs', contentId: 'interop' } } : {}),
    });
    window.report = { errors: [], fatalErrors: [], levelSwitches: 0, fragsLoaded: 0 };
    hls.on(window.Hls.Events.ERROR, (_, data) => {
      const entry = { type: data.type, details: data.details, fatal: data.fatal,
        at: video.currentTime, t: Date.now(),
        url: data.url || (data.context && data.context.url) || (data.frag && data.frag.url)
          || null,
        code: (data.response && data.response.code) || null,
        reason: data.reason || (data.error ? String(data.error) : null) };
      window.report.errors.push(entry);
      if (data.fatal) window.report.fatalErrors.push(entry);
    });
    window.report.levelsSeen = [];
    hls.on(window.Hls.Events.LEVEL_SWITCHED, (_, data) => {
      window.report.levelSwitches += 1;
      window.report.levelsSeen.push({ level: data.level, at: video.currentTime });
    });
    hls.on(window.Hls.Events.FRAG_LOADED, () => { window.report.fragsLoaded += 1; });
    hls.loadSource(src);
    hls.attachMedia(video);
    hls.on(window.Hls.Events.MANIFEST_PARSED, () => { video.play().catch(() => {}); });
    window.hls = hls;
  }, { src: url, cmcd: args.includes('--cmcd-headers') });

  if (markColor) {
    await page.evaluate((mark) => {
      const video = document.getElementById('v');
      const canvas = document.createElement('canvas');
      canvas.width = canvas.height = 8;
      const context = canvas.getContext('2d', { willReadFrequently: true });
      window.report.markSeenAt = null;
      const check = () => {
        context.drawImage(video, 0, 0, 8, 8);
        const pixels = context.getImageData(0, 0, 8, 8).data;
        const mean = [0, 1, 2].map((c) => {
          let sum = 0;
          for (let i = c; i < pixels.length; i += 4) sum += pixels[i];
          return sum / (pixels.length / 4);
        });
        if (mean.every((value, c) => Math.abs(value - mark[c]) < 40)) {
          window.report.markSeenAt = Date.now();
        } else {
          video.requestVideoFrameCallback(check);
        }
      };
      video.requestVideoFrameCallback(check);
    }, markColor);
  }

  const sample = () => page.evaluate(() => {
    const video = document.getElementById('v');
    const hls = window.hls;
    const playing = hls.playingDate ? hls.playingDate.getTime() : null;
    return {
      t: Date.now(),
      currentTime: video.currentTime,
      playingDate: playing,
      paused: video.paused,
      readyState: video.readyState,
      latency: playing ? (Date.now() - playing) / 1000 : null,
      hlsLatency: hls.latency,
      targetLatency: hls.targetLatency,
      level: hls.currentLevel,
      levels: hls.levels.map((l) => `${l.width}x${l.height}`),
    };
  });

  // Wait for playback to start, then sample for the requested time.
  const startDeadline = Date.now() + startTimeout * 1000;
  let first = await sample();
  while (first.currentTime <= 0 && Date.now() < startDeadline) {
    await new Promise((r) => setTimeout(r, 200));
    first = await sample();
  }
  const samples = [];
  const begin = Date.now();
  const end = begin + seconds * 1000;
  let switched = null;
  while (Date.now() < end) {
    samples.push(await sample());
    if (switchAt >= 0 && switched === null && Date.now() - begin >= switchAt * 1000) {
      switched = await page.evaluate(() => {
        const hls = window.hls;
        const from = hls.currentLevel;
        const to = (from + 1) % hls.levels.length;
        hls.currentLevel = to; // an immediate, forced switch (flushes the buffer)
        return { from, to, t: Date.now() };
      });
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  const report = await page.evaluate(() => window.report);
  const latencies = samples.map((s) => s.latency).filter((v) => v !== null).sort((a, b) => a - b);
  const p50 = latencies.length ? latencies[Math.floor((latencies.length - 1) / 2)] : null;
  console.log(JSON.stringify({
    started: first.currentTime > 0,
    samples,
    errors: report.errors,
    fatalErrors: report.fatalErrors,
    levelSwitches: report.levelSwitches,
    levelsSeen: report.levelsSeen,
    switched,
    fragsLoaded: report.fragsLoaded,
    pageErrors: consoleErrors,
    latencyP50: p50,
    markSeenAt: report.markSeenAt ?? null,
  }));
} finally {
  await browser.close();
}
