// @ts-check
// The web player's replays against a real mediad that recorded a real ffmpeg broadcast (ended
// before this runs): discovery lists the recording under "Recent replays", its card opens the
// replay page, which plays the recording from its start with hls.js (the poster before, the
// whole recording's duration on the seek bar), and a seek to the middle plays on from there.
// playwright-core drives Debian's Chromium.
//
//   node e2e/replay.mjs --base URL --stream ID --out DIR
//
// Prints one JSON line at the end: {"ok": true, "steps": [...], "recording": {...},
// "mediaDurationSec", "seekedTo"} or {"ok": false, "step", "error"} with
// DIR/failure-replay.png and exit code 1; DIR/replay-page.png on success.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { scriptOptions } from './caller.mjs';
import { openPage } from './chromium.mjs';
import { stepRecorder } from './steps.mjs';

const { base, streamId, outDir } = scriptOptions('e2e/replay.mjs');
const { steps, step, current } = stepRecorder();

await mkdir(outDir, { recursive: true });
const { browser, page, pageErrors } = await openPage();
const player = page.locator('[data-testid=replay-player]');
const video = player.locator('video');
const bar = player.getByRole('slider', { name: 'Position in the recording' });

/** @type {{id: string, durationSec: number, posterUrl: string, playbackUrl: string} | null} */
let recording = null;
let mediaDurationSec = 0;
let seekedTo = 0;

/** Resolves once the video's position has advanced `seconds` past where it is now. */
async function advances(/** @type {number} */ seconds, /** @type {number} */ within) {
  await video.evaluate((v, [by, ms]) => new Promise((resolve, reject) => {
    const element = /** @type {HTMLVideoElement} */ (v);
    const from = element.currentTime;
    const started = performance.now();
    const timer = setInterval(() => {
      if (element.currentTime >= from + by) {
        clearInterval(timer);
        resolve(undefined);
      } else if (performance.now() - started > ms) {
        clearInterval(timer);
        reject(new Error(`currentTime stayed near ${element.currentTime} (from ${from}, paused ${element.paused})`));
      }
    }, 50);
  }), [seconds, within]);
}

try {
  await step('a: the API lists the complete recording', async () => {
    const response = await page.request.get(`${base}/api/streams/${encodeURIComponent(streamId)}/recordings`);
    if (!response.ok()) throw new Error(`GET recordings: ${response.status()}`);
    const { recordings } = await response.json();
    recording = recordings.find((/** @type {{state: string}} */ r) => r.state === 'complete') ?? null;
    if (!recording) throw new Error(`no complete recording: ${JSON.stringify(recordings)}`);
  });
  if (!recording) throw new Error('unreachable');
  const { id, durationSec, posterUrl } = recording;

  await step('b: discovery shows the replay card under the live streams, and it opens the replay page', async () => {
    await page.goto(`${base}/`);
    const replays = page.getByRole('region', { name: 'Recent replays' });
    const card = replays.locator(`a[href="/replay/${id}"]`);
    await card.waitFor();
    const text = await card.innerText();
    const clock = `${Math.floor(durationSec / 60)}:${String(Math.floor(durationSec % 60)).padStart(2, '0')}`;
    if (!text.includes(clock)) throw new Error(`the card does not show the duration ${clock}: ${JSON.stringify(text)}`);
    await card.click();
    await page.waitForURL(`${base}/replay/${id}`);
  });

  await step('c: the replay page shows the poster, then plays from the start', async () => {
    await player.waitFor();
    const poster = await video.getAttribute('poster');
    if (poster !== posterUrl) throw new Error(`the poster is ${poster}, not ${posterUrl}`);
    const image = await page.request.get(`${base}${posterUrl}`);
    if (!image.ok() || !String(image.headers()['content-type']).startsWith('image/jpeg')) {
      throw new Error(`the poster answers ${image.status()} ${image.headers()['content-type']}`);
    }
    await player.and(page.locator('[data-status=playing]')).waitFor({ timeout: 20_000 });
    const start = await video.evaluate((v) => /** @type {HTMLVideoElement} */ (v).currentTime);
    if (start > 2) throw new Error(`playback began at ${start} s, not at the start`);
    await advances(1, 10_000);
    if (await page.getByText('LIVE', { exact: true }).count()) throw new Error('a replay shows the LIVE badge');
  });

  await step('d: the seek bar spans the whole recording', async () => {
    mediaDurationSec = await video.evaluate((v) => /** @type {HTMLVideoElement} */ (v).duration);
    if (!(Math.abs(mediaDurationSec - durationSec) < 1)) {
      throw new Error(`the media lasts ${mediaDurationSec} s, the recording ${durationSec} s`);
    }
    const max = Number(await bar.getAttribute('max'));
    if (Math.abs(max - mediaDurationSec) > 0.01) throw new Error(`the seek bar ends at ${max}, the media at ${mediaDurationSec}`);
  });

  await step('e: a seek to the middle plays on from there', async () => {
    const middle = Math.round((mediaDurationSec / 2) * 10) / 10;
    // What dragging the thumb does: the input's value changes and React hears an input event.
    await bar.evaluate((input, to) => {
      const element = /** @type {HTMLInputElement} */ (input);
      Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')?.set?.call(element, String(to));
      element.dispatchEvent(new Event('input', { bubbles: true }));
    }, middle);
    await page.waitForFunction((to) => {
      const element = document.querySelector('[data-testid=replay-player] video');
      return element instanceof HTMLVideoElement && !element.seeking && Math.abs(element.currentTime - to) < 1.5;
    }, middle, { timeout: 10_000 });
    seekedTo = await video.evaluate((v) => /** @type {HTMLVideoElement} */ (v).currentTime);
    await advances(0.5, 10_000);
    const label = await player.getByLabel('Time').innerText();
    if (!label.includes(' / ')) throw new Error(`the clock reads ${JSON.stringify(label)}`);
    await page.screenshot({ path: path.join(outDir, 'replay-page.png') });
  });

  await step('no uncaught errors', async () => {
    if (pageErrors.length) throw new Error(`uncaught page errors: ${pageErrors.join(' | ')}`);
  });
  console.log(JSON.stringify({ ok: true, steps, recording: { id, durationSec }, mediaDurationSec, seekedTo }));
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  await page.screenshot({ path: path.join(outDir, 'failure-replay.png'), fullPage: true }).catch(() => undefined);
  console.error(`e2e step failed: ${current()}: ${message}`);
  console.log(JSON.stringify({ ok: false, step: current(), error: message, pageErrors, steps }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
