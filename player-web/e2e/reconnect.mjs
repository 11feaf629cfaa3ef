// @ts-check
// The web player through an encoder's reconnect, against a real mediad and a real ffmpeg
// publish, on a 390 px wide phone screen: the quality menu fits and names the renditions;
// the publisher stops and the player keeps its picture under "Reconnecting…" while the API
// says "reconnecting"; the publisher comes back and playback goes on; it stops again and,
// once the reconnect grace has passed, the player says the stream has ended.
// playwright-core drives Debian's Chromium (never a downloaded one).
//
//   node e2e/reconnect.mjs --base URL --stream ID --out DIR
//
// The publisher belongs to the caller: the script prints {"wait": "stop-publisher"} (or
// "start-publisher") on a line of its own and reads one line from stdin once it is done.
// Prints one JSON line at the end: {"ok": true, "steps": [...]}, or {"ok": false, "step",
// "error"} with screenshots as DIR/failure-reconnect.png and exit code 1.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { callerRequests, scriptOptions } from './caller.mjs';
import { launchChromium } from './chromium.mjs';
import { stepRecorder } from './steps.mjs';

const { base, streamId, outDir } = scriptOptions('e2e/reconnect.mjs');
const ask = callerRequests();

const { steps, step, current } = stepRecorder();

async function apiState() {
  const response = await fetch(`${base}/api/streams/${encodeURIComponent(streamId ?? '')}`,
    { signal: AbortSignal.timeout(5000) });
  const body = await response.json();
  return { state: String(body.state), endedAt: body.endedAt };
}

await mkdir(outDir, { recursive: true });
const browser = await launchChromium();
const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
const page = await context.newPage();
page.setDefaultTimeout(15_000);
/** @type {string[]} */
const pageErrors = [];
page.on('pageerror', (error) => pageErrors.push(error.message));
const player = page.locator('[data-testid=live-player]');
const video = player.locator('video');
const reconnecting = page.locator('[data-testid=reconnecting]');

/** The video's position advances `seconds` within `within` ms. */
async function advances(/** @type {number} */ seconds, /** @type {number} */ within) {
  await video.evaluate((v, [by, ms]) => new Promise((resolve, reject) => {
    const element = /** @type {HTMLVideoElement} */ (v);
    const from = element.currentTime;
    const timer = setInterval(() => {
      if (element.currentTime >= from + by) {
        clearInterval(timer);
        clearTimeout(deadline);
        resolve(undefined);
      }
    }, 100);
    const deadline = setTimeout(() => {
      clearInterval(timer);
      reject(new Error(`currentTime stayed at ${element.currentTime} (from ${from})`));
    }, ms);
  }), [seconds, within]);
}

try {
  await step('a: the player plays on a 390 px screen', async () => {
    await page.goto(`${base}/watch/${encodeURIComponent(streamId)}`);
    await player.and(page.locator('[data-status=playing]')).waitFor({ timeout: 30_000 });
    await advances(1, 15_000);
  });

  await step('b: the quality menu fits the screen and names the renditions', async () => {
    const menu = player.getByRole('combobox', { name: 'Quality' });
    await menu.waitFor({ timeout: 10_000 });
    const labels = await menu.locator('option').allTextContents();
    if (labels[0] !== 'Auto' || !labels.some((label) => /^\d+p(\d+)? \(source\)$/.test(label))
        || new Set(labels).size !== labels.length) {
      throw new Error(`the quality menu lists ${JSON.stringify(labels)}`);
    }
    const box = await menu.boundingBox();
    const frame = await player.boundingBox();
    if (!box || !frame || box.x < frame.x || box.x + box.width > frame.x + frame.width + 0.5
        || box.width < 40) {
      throw new Error(`the quality menu (${JSON.stringify(box)}) is cut off by the player (${JSON.stringify(frame)})`);
    }
  });

  await step('c: the publisher stops: "Reconnecting…" over the last picture, the API says reconnecting', async () => {
    await ask('stop-publisher');
    await reconnecting.waitFor({ timeout: 15_000 });
    const { state, endedAt } = await apiState();
    if (state !== 'reconnecting' || endedAt !== null) {
      throw new Error(`the API says state ${state}, endedAt ${endedAt}`);
    }
    if (await page.locator('[data-testid=stream-ended]').count()) throw new Error('the page says the stream ended');
    const picture = await video.evaluate((v) => /** @type {HTMLVideoElement} */ (v).videoWidth);
    if (!picture) throw new Error('the video element lost its picture');
    await page.screenshot({ path: path.join(outDir, 'reconnecting.png') });
  });

  await step('d: the publisher is back: the notice goes and playback goes on', async () => {
    await ask('start-publisher');
    await reconnecting.waitFor({ state: 'detached', timeout: 20_000 });
    await advances(1, 20_000);
    const { state } = await apiState();
    if (state !== 'live') throw new Error(`the API says state ${state}`);
  });

  await step('e: the publisher stops for good: the stream ends after the grace', async () => {
    await ask('stop-publisher');
    await reconnecting.waitFor({ timeout: 15_000 });
    await page.locator('[data-testid=stream-ended]').filter({ hasText: 'The stream has ended.' })
      .waitFor({ timeout: 40_000 });
    const { state, endedAt } = await apiState();
    if (state !== 'ended' || !endedAt) throw new Error(`the API says state ${state}, endedAt ${endedAt}`);
  });

  await step('no uncaught errors', async () => {
    if (pageErrors.length) throw new Error(`uncaught page errors: ${pageErrors.join(' | ')}`);
  });
  console.log(JSON.stringify({ ok: true, steps }));
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  await page.screenshot({ path: path.join(outDir, 'failure-reconnect.png'), fullPage: true })
    .catch(() => undefined);
  console.error(`e2e step failed: ${current()}: ${message}`);
  console.log(JSON.stringify({ ok: false, step: current(), error: message, pageErrors, steps }));
  process.exitCode = 1;
} finally {
  await browser.close();
  process.stdin.destroy();
}
