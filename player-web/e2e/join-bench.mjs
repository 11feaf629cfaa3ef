// @ts-check
// The viewer's wait, measured in one engine (browsers/index.mjs) for bench/player_join.py:
// for each join, a fresh page (its own context) opens the watch page and we read, from the
// player, when its first frame was shown (ms since navigation) and, after `--settle`
// seconds, how far behind live it plays. The peer is a bare page with hls.js alone (no app,
// no chat), served here: the same stream, the same engine, timed from the moment hls.js is
// created. Also reports the JavaScript the watch page loaded, raw and gzipped.
//
//   node e2e/join-bench.mjs --engine chromium|firefox|webkit --base URL --stream ID
//     [--joins 10] [--settle 8]
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { ENGINES, launchBrowser } from './browsers/index.mjs';

/** @typedef {import('./browsers/index.mjs').E2EPage} E2EPage */

const require = createRequire(import.meta.url);
const { values: opts } = parseArgs({
  options: {
    engine: { type: 'string', default: 'chromium' },
    base: { type: 'string' },
    stream: { type: 'string' },
    joins: { type: 'string', default: '10' },
    settle: { type: 'string', default: '8' },
  },
});
const engine = /** @type {import('./browsers/index.mjs').EngineName} */ (opts.engine);
const base = opts.base?.replace(/\/+$/, '');
const stream = opts.stream;
const joins = Number(opts.joins);
const settleMs = Number(opts.settle) * 1000;
if (!ENGINES.includes(engine) || !base || !stream || !(joins > 0) || !(settleMs >= 0)) {
  console.error(`usage: node e2e/join-bench.mjs --engine ${ENGINES.join('|')} --base URL --stream ID [--joins N] [--settle S]`);
  process.exit(2);
}

/** The bare hls.js page, on an origin of its own (the daemon's HLS answers any origin). */
async function serveBarePage() {
  const hlsJs = await readFile(require.resolve('hls.js/dist/hls.light.min.js'));
  const page = '<!doctype html><meta charset="utf-8"><title>hls.js alone</title>'
    + '<video id="v" muted autoplay playsinline style="width:640px"></video><script src="/hls.js"></script>';
  const server = createServer((request, response) => {
    const body = request.url === '/hls.js' ? hlsJs : Buffer.from(page);
    response.writeHead(200, { 'Content-Type': request.url === '/hls.js' ? 'text/javascript' : 'text/html', 'Content-Length': body.length });
    response.end(body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const address = server.address();
  return { server, url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/` };
}

const sleep = (/** @type {number} */ ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function joinWatchPage(/** @type {E2EPage} */ page) {
  await page.goto(`${base}/watch/${stream}`);
  const firstFrameMs = Number(await page.waitFor('the player never played', () => {
    const player = document.querySelector('[data-testid="live-player"][data-status="playing"]');
    return player?.getAttribute('data-first-frame-at') ?? null;
  }, [], 30_000));
  await sleep(settleMs);
  const { latency, path, scripts } = await page.evaluate(() => {
    const player = document.querySelector('[data-testid="live-player"]');
    return {
      latency: player?.getAttribute('data-latency-s') ?? null,
      path: player?.getAttribute('data-engine') ?? null,
      scripts: [...new Set(performance.getEntriesByType('resource')
        .filter((entry) => /** @type {PerformanceResourceTiming} */ (entry).initiatorType === 'script'
          || /\.m?js(\?|$)/.test(entry.name))
        .map((entry) => entry.name)
        .concat([...document.scripts].map((script) => script.src).filter(Boolean)))],
    };
  });
  return { firstFrameMs, latencyS: Number(latency), path, scripts };
}

async function joinBareHls(/** @type {E2EPage} */ page, /** @type {string} */ url) {
  await page.goto(url);
  const firstFrameMs = await page.evaluate((src) => new Promise((resolve, reject) => {
    const video = /** @type {HTMLVideoElement} */ (document.getElementById('v'));
    const started = performance.now();
    // @ts-expect-error: the page's own hls.js
    const hls = new window.Hls({ lowLatencyMode: true });
    // @ts-expect-error: kept for the latency read
    window.hls = hls;
    // @ts-expect-error: the page's own hls.js
    hls.on(window.Hls.Events.ERROR, (_e, data) => data.fatal && reject(new Error(data.details)));
    const shown = () => resolve(performance.now() - started);
    if ('requestVideoFrameCallback' in video) video.requestVideoFrameCallback(shown);
    else video.addEventListener('playing', shown, { once: true });
    hls.loadSource(src);
    hls.attachMedia(video);
    video.play().catch(() => undefined);
  }), `${base}/hls/${stream}/index.m3u8`);
  await sleep(settleMs);
  // @ts-expect-error: the page's own hls.js
  const latencyS = await page.evaluate(() => window.hls.latency);
  return { firstFrameMs, latencyS };
}

async function gzipSizes(/** @type {string[]} */ urls) {
  let raw = 0;
  let gzip = 0;
  for (const url of urls) {
    const body = Buffer.from(await (await fetch(url, { headers: { 'Accept-Encoding': 'identity' } })).arrayBuffer());
    raw += body.length;
    gzip += gzipSync(body, { level: 9 }).length;
  }
  return { rawKb: raw / 1024, gzipKb: gzip / 1024, files: urls.map((u) => new URL(u).pathname) };
}

const bare = await serveBarePage();
const browser = await launchBrowser(engine);
try {
  const ours = [];
  const peer = [];
  let js = null;
  for (let i = 0; i < joins; i += 1) {
    const page = browser.newPage(`join-${i}`);
    const join = await joinWatchPage(page);
    await page.close();
    if (i === 0) js = await gzipSizes(join.scripts.filter((url) => url.startsWith(base)));
    ours.push({ firstFrameMs: join.firstFrameMs, latencyS: join.latencyS, path: join.path });
    const peerPage = browser.newPage(`peer-${i}`);
    peer.push(await joinBareHls(peerPage, bare.url));
    await peerPage.close();
  }
  console.log(JSON.stringify({ engine, browser: browser.version, ours, peer, js }));
} finally {
  await browser.close();
  bare.server.close();
}
