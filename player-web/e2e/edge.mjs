// @ts-check
// The web app through a caching edge (issue 19): the page, its API calls, its WebSocket and
// its LL-HLS all come from the edge's origin (--base is the edge; the app's MEDIA_ORIGIN is
// the page's origin), the player plays, and the chat's viewer count, fed by the WebSocket's
// presence, counts this viewer even though the origin counts no HLS request from behind an
// edge. playwright-core drives Debian's Chromium.
//
//   node e2e/edge.mjs --base URL --stream ID --out DIR
//
// Prints one JSON line: {"ok": true, "ttffMs", "steps", "requests": {"hls", "api", "ws"},
// "elsewhere": [URL...]} (requests the page sent anywhere but --base); on a failure
// {"ok": false, "step", "error"}, DIR/failure-edge.png and exit code 1.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { scriptOptions } from './caller.mjs';
import { openPage } from './chromium.mjs';
import { stepRecorder } from './steps.mjs';

const { base, streamId, outDir } = scriptOptions('e2e/edge.mjs');
const { steps, step, current } = stepRecorder();
const edgeOrigin = new URL(base).origin;

await mkdir(outDir, { recursive: true });
const { browser, page, pageErrors } = await openPage();
const requests = { hls: 0, api: 0, ws: 0 };
/** @type {string[]} */
const elsewhere = [];
page.on('request', (request) => {
  const url = new URL(request.url());
  if (url.protocol === 'data:' || url.protocol === 'blob:') return;
  if (url.origin !== edgeOrigin) elsewhere.push(request.url());
  if (url.pathname.startsWith('/hls/')) requests.hls += 1;
  if (url.pathname.startsWith('/api/')) requests.api += 1;
});
page.on('websocket', (socket) => {
  const url = new URL(socket.url());
  if (`http${url.protocol === 'wss:' ? 's' : ''}://${url.host}` !== edgeOrigin) {
    elsewhere.push(socket.url());
  }
  requests.ws += 1;
});
const player = page.locator('[data-testid=live-player]');
const video = player.locator('video');
let ttffMs = NaN;

try {
  await step('a: the watch page, loaded from the edge, plays', async () => {
    const started = performance.now();
    await page.goto(`${base}/watch/${encodeURIComponent(streamId)}`);
    await player.and(page.locator('[data-status=playing]')).waitFor({ timeout: 30_000 });
    ttffMs = Math.round(performance.now() - started);
  });
  await step('b: playback advances', async () => {
    await video.evaluate((v) => new Promise((resolve, reject) => {
      const element = /** @type {HTMLVideoElement} */ (v);
      const from = element.currentTime;
      const started = performance.now();
      const timer = setInterval(() => {
        if (element.currentTime >= from + 2) {
          clearInterval(timer);
          resolve(undefined);
        } else if (performance.now() - started > 15_000) {
          clearInterval(timer);
          reject(new Error(`currentTime stayed near ${element.currentTime} (from ${from})`));
        }
      }, 50);
    }));
  });
  await step('c: the chat counts this viewer (WebSocket presence through the edge)', async () => {
    await page.getByTestId('viewer-count').filter({ hasText: /^1 watching$/ })
      .waitFor({ timeout: 10_000 });
  });
  if (pageErrors.length) throw new Error(`uncaught errors in the page: ${pageErrors.join('; ')}`);
  console.log(JSON.stringify({ ok: true, ttffMs, steps, requests, elsewhere }));
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  await page.screenshot({ path: path.join(outDir, 'failure-edge.png') }).catch(() => {});
  console.error(`edge e2e failed at step "${current()}": ${message}`);
  console.log(JSON.stringify({ ok: false, step: current(), error: message, steps, requests,
    elsewhere, pageErrors }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
