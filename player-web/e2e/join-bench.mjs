// The viewer's wait, measured in Debian's headless Chromium for bench/player_join.py: for
// each join, a fresh browser context opens the watch page and we read, from the player,
// when its first frame was shown (ms since navigation) and, after `--settle` seconds, how
// far behind live it plays. The peer is a bare page with hls.js alone (no app, no
// chat): the same stream, the same browser, timed from the moment hls.js is created.
// Also reports the JavaScript the watch page loaded, raw and gzipped.
//
//   node e2e/join-bench.mjs --base URL --stream ID [--joins 10] [--settle 8]
import { createRequire } from "node:module";
import { gzipSync } from "node:zlib";
import { launchChromium } from "./chromium.mjs";

const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const base = option("--base");
const stream = option("--stream");
const joins = Number(option("--joins", "10"));
const settleMs = Number(option("--settle", "8")) * 1000;
if (!base || !stream) {
  console.error("usage: node e2e/join-bench.mjs --base URL --stream ID [--joins N] [--settle S]");
  process.exit(2);
}

const browser = await launchChromium();

async function joinWatchPage(collectScripts) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const scripts = new Set();
  page.on("response", (response) => {
    if (response.request().resourceType() === "script") scripts.add(response.url());
  });
  await page.goto(`${base}/watch/${stream}`, { waitUntil: "commit" });
  const player = page.locator('[data-testid="live-player"][data-status="playing"]');
  await player.waitFor({ timeout: 30000 });
  const firstFrameMs = Number(await player.getAttribute("data-first-frame-at"));
  await page.waitForTimeout(settleMs);
  const latencyS = Number(await page.locator('[data-testid="live-player"]').getAttribute("data-latency-s"));
  await context.close();
  return { firstFrameMs, latencyS, scripts: collectScripts ? [...scripts] : [] };
}

async function joinBareHls() {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.setContent('<video id="v" muted autoplay playsinline style="width:640px"></video>');
  await page.addScriptTag({ path: require.resolve("hls.js/dist/hls.light.min.js") });
  const url = `${base}/hls/${stream}/index.m3u8`;
  const firstFrameMs = await page.evaluate(
    (src) =>
      new Promise((resolve, reject) => {
        const video = document.getElementById("v");
        const started = performance.now();
        const hls = new window.Hls({ lowLatencyMode: true });
        window.hls = hls;
        hls.on(window.Hls.Events.ERROR, (_e, data) => data.fatal && reject(new Error(data.details)));
        video.requestVideoFrameCallback(() => resolve(performance.now() - started));
        hls.loadSource(src);
        hls.attachMedia(video);
        video.play().catch(() => undefined);
      }),
    url,
  );
  await page.waitForTimeout(settleMs);
  const latencyS = await page.evaluate(() => window.hls.latency);
  await context.close();
  return { firstFrameMs, latencyS };
}

async function gzipSizes(urls) {
  let raw = 0;
  let gzip = 0;
  for (const url of urls) {
    const body = Buffer.from(await (await fetch(url, { headers: { "Accept-Encoding": "identity" } })).arrayBuffer());
    raw += body.length;
    gzip += gzipSync(body, { level: 9 }).length;
  }
  return { rawKb: raw / 1024, gzipKb: gzip / 1024, files: urls.map((u) => new URL(u).pathname) };
}

try {
  const ours = [];
  const peer = [];
  let js = null;
  for (let i = 0; i < joins; i += 1) {
    const join = await joinWatchPage(i === 0);
    if (i === 0) js = await gzipSizes(join.scripts);
    ours.push({ firstFrameMs: join.firstFrameMs, latencyS: join.latencyS });
    peer.push(await joinBareHls());
  }
  console.log(JSON.stringify({ ours, peer, js }));
} finally {
  await browser.close();
}
