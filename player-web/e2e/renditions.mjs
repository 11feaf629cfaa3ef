// @ts-check
// The web player while the renditions of a broadcast change under it, against a real mediad
// and real ffmpeg publishes: the viewer picks the 240p rung; the encoder comes back smaller
// (320x180), so that rung ends (EXT-X-ENDLIST) and leaves the multivariant playlist; the
// player goes on with what exists and its quality menu drops the rung; the encoder comes back
// at 640x360 and the rung is offered again. playwright-core drives Debian's Chromium.
//
//   node e2e/renditions.mjs --base URL --stream ID --out DIR
//
// The publishers belong to the caller: the script prints {"wait": "smaller-publisher"} (or
// "larger-publisher") on a line of its own and reads one line from stdin once the new one
// publishes. Prints one JSON line at the end: {"ok": true, "steps": [...], "stallsMs": [...]}
// or {"ok": false, "step", "error"} with DIR/failure-renditions.png and exit code 1.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { callerRequests, scriptOptions } from './caller.mjs';
import { openPage } from './chromium.mjs';
import { stepRecorder } from './steps.mjs';

const { base, streamId, outDir } = scriptOptions('e2e/renditions.mjs');
const ask = callerRequests();

const { steps, step, current } = stepRecorder();

await mkdir(outDir, { recursive: true });
const { browser, page, pageErrors } = await openPage();
const player = page.locator('[data-testid=live-player]');
const video = player.locator('video');
const menu = player.getByRole('combobox', { name: 'Quality' });
/** @type {number[]} */
const stallsMs = [];

/** Resolves once the video's position has advanced `seconds` (a stall before that is
 * recorded), rejects after `within` ms. */
async function advances(/** @type {number} */ seconds, /** @type {number} */ within) {
  const stalled = await video.evaluate((v, [by, ms]) => new Promise((resolve, reject) => {
    const element = /** @type {HTMLVideoElement} */ (v);
    const from = element.currentTime;
    const started = performance.now();
    let last = from;
    let lastMoved = started;
    let longest = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      if (element.currentTime !== last) {
        longest = Math.max(longest, now - lastMoved);
        last = element.currentTime;
        lastMoved = now;
      }
      if (element.currentTime >= from + by) {
        clearInterval(timer);
        resolve(Math.round(longest));
      } else if (now - started > ms) {
        clearInterval(timer);
        reject(new Error(`currentTime stayed near ${element.currentTime} (from ${from})`));
      }
    }, 50);
  }), [seconds, within]);
  stallsMs.push(Number(stalled));
}

async function labels() {
  return menu.locator('option').allTextContents();
}

/** Waits until the quality menu's labels satisfy `wanted`. */
async function menuUntil(/** @type {(labels: string[]) => boolean} */ wanted,
  /** @type {number} */ within, /** @type {string} */ what) {
  const deadline = Date.now() + within;
  let seen = await labels().catch(() => []);
  while (!wanted(seen)) {
    if (Date.now() > deadline) throw new Error(`the quality menu never ${what}: ${JSON.stringify(seen)}`);
    await page.waitForTimeout(250);
    seen = await labels().catch(() => []);
  }
  return seen;
}

async function pictureHeight() {
  return video.evaluate((v) => /** @type {HTMLVideoElement} */ (v).videoHeight);
}

try {
  await step('a: the viewer picks the 240p rung', async () => {
    await page.goto(`${base}/watch/${encodeURIComponent(streamId)}`);
    await player.and(page.locator('[data-status=playing]')).waitFor({ timeout: 30_000 });
    await menuUntil((seen) => seen.includes('240p'), 15_000, 'offered 240p');
    await menu.selectOption({ label: '240p' });
    await advances(2, 20_000);
    await page.waitForFunction(() => {
      const element = document.querySelector('[data-testid=live-player] video');
      return element instanceof HTMLVideoElement && element.videoHeight === 240;
    }, undefined, { timeout: 20_000 });
  });

  await step('b: the encoder comes back at 320x180: the rung ends, playback goes on', async () => {
    await ask('smaller-publisher');
    await advances(3, 25_000);
    await menuUntil((seen) => !seen.includes('240p') || seen.length === 0, 25_000, 'dropped 240p');
    const height = await pictureHeight();
    if (height !== 180) throw new Error(`the picture is ${height} px tall, not the new source's 180`);
  });

  await step('c: the encoder comes back at 640x360: the rung is offered again', async () => {
    await ask('larger-publisher');
    await advances(2, 25_000);
    await menuUntil((seen) => seen.includes('240p'), 40_000, 'offered 240p again');
    await advances(1, 10_000);
  });

  await step('no uncaught errors', async () => {
    if (pageErrors.length) throw new Error(`uncaught page errors: ${pageErrors.join(' | ')}`);
  });
  console.log(JSON.stringify({ ok: true, steps, stallsMs }));
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  await page.screenshot({ path: path.join(outDir, 'failure-renditions.png'), fullPage: true })
    .catch(() => undefined);
  console.error(`e2e step failed: ${current()}: ${message}`);
  console.log(JSON.stringify({ ok: false, step: current(), error: message, pageErrors, steps, stallsMs }));
  process.exitCode = 1;
} finally {
  await browser.close();
  process.stdin.destroy();
}
