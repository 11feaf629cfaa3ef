// @ts-check
// The web player's Real-time mode (WebRTC over WHEP) end to end, against a real mediad and
// real ffmpeg RTMP publishes, in Debian's Chromium driven by playwright-core. The creator has
// turned on the stream's realtimePlayback setting, and the daemon does not transcode:
//   a: the watch page plays in Real-time by itself: the engine badge says realtime, the
//      <video> plays a MediaStream whose pictures advance, the latency readout shows, the
//      WHEP offer got 201 and the daemon says a WHEP viewer connected;
//   b: the viewer switches to LL-HLS: the badge says llhls, hls.js plays on, the player
//      sent a DELETE to the WHEP session's Location and the daemon closed that session;
//   c: back to Real-time: a new WHEP session plays again;
//   d: the encoder comes back sending B-frames, which WebRTC cannot carry (and there is no
//      transcoded rung): a fresh watch page's WHEP offer gets 409, the player says why and
//      falls back to LL-HLS by itself, and plays.
//
//   node e2e/realtime.mjs --base URL --stream ID --out DIR
//
// The caller owns the publisher and reads the daemon's log: the script prints {"wait": WHAT}
// on a line of its own ("whep-viewer-connected", "whep-session-closed",
// "whep-viewer-connected-again", "bframes-publisher") and reads one line "done" from stdin
// once the caller saw it or did it. Screenshots of each state land in DIR (realtime.png,
// realtime-llhls.png, realtime-again.png, realtime-fallback.png). Prints one JSON line at
// the end: {"ok": true, "steps": [...], "whep": [...], "latency": {...}}, or {"ok": false,
// "step", "error"} with DIR/failure-realtime.png and exit code 1.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { launchChromium } from './chromium.mjs';
import { callerRequests, scriptOptions } from './caller.mjs';
import { stepRecorder } from './steps.mjs';

const { base, streamId, outDir } = scriptOptions('e2e/realtime.mjs');
const ask = callerRequests();
const { steps, step, current } = stepRecorder();

await mkdir(outDir, { recursive: true });
const browser = await launchChromium({ webrtc: true });
const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
page.setDefaultTimeout(15_000);
/** @type {string[]} */
const pageErrors = [];
page.on('pageerror', (error) => pageErrors.push(error.message));
/** Every WHEP request the page made and its answer, in order. */
/** @type {{method: string, status: number, path: string}[]} */
const whep = [];
page.on('response', (response) => {
  const url = new URL(response.url());
  if (url.pathname.startsWith('/whep/')) {
    whep.push({ method: response.request().method(), status: response.status(), path: url.pathname });
  }
});
const watchUrl = `${base}/watch/${encodeURIComponent(streamId)}`;
const player = page.locator('[data-testid=live-player]');
const video = player.locator('video');
const badge = page.locator('[data-testid=engine-badge]');
const latencyReadout = page.locator('[data-testid=latency]');
const modes = page.getByRole('group', { name: 'Playback mode' });
/** @type {Record<string, string>} */
const latency = {};

/** The path of the session a WHEP answer created (its Location). */
let session = '';
function sessionPath(/** @type {import('playwright-core').Response} */ answer) {
  const location = answer.headers().location;
  if (!location) throw new Error('the WHEP answer has no Location');
  return new URL(location, answer.url()).pathname;
}

/** The next WHEP response to a `method` request (registered before what causes it). */
function whepResponse(/** @type {string} */ method, /** @type {number} */ timeout) {
  return page.waitForResponse((response) => new URL(response.url()).pathname.startsWith('/whep/')
    && response.request().method() === method, { timeout });
}

async function badgeSays(/** @type {string} */ mode) {
  await page.locator(`[data-testid=engine-badge][data-mode=${mode}]`).waitFor({ timeout: 15_000 });
  await player.and(page.locator(`[data-playback-mode=${mode}]`)).waitFor({ timeout: 1000 });
}

/** What the <video> plays from: a WebRTC MediaStream, or a URL (hls.js's MediaSource blob). */
async function videoSource() {
  return video.evaluate((v) => {
    const element = /** @type {HTMLVideoElement} */ (v);
    const stream = element.srcObject;
    return stream instanceof MediaStream
      ? { kind: 'mediastream', tracks: stream.getTracks().map((t) => `${t.kind}:${t.readyState}`) }
      : { kind: element.currentSrc ? 'url' : 'none', src: element.currentSrc };
  });
}

/** Resolves once the video has presented `frames` new pictures (requestVideoFrameCallback)
 * and its position has advanced `seconds`; rejects after `within` ms. */
async function advances(/** @type {number} */ frames, /** @type {number} */ seconds,
  /** @type {number} */ within) {
  return video.evaluate((v, [wantFrames, by, ms]) => new Promise((resolve, reject) => {
    const element = /** @type {HTMLVideoElement} */ (v);
    const from = element.currentTime;
    let presented = 0;
    let handle = 0;
    const count = () => {
      presented += 1;
      handle = element.requestVideoFrameCallback(count);
    };
    handle = element.requestVideoFrameCallback(count);
    const finish = () => {
      clearInterval(timer);
      clearTimeout(deadline);
      element.cancelVideoFrameCallback(handle);
    };
    const timer = setInterval(() => {
      if (presented >= wantFrames && element.currentTime >= from + by) {
        finish();
        resolve({ presented, size: `${element.videoWidth}x${element.videoHeight}` });
      }
    }, 100);
    const deadline = setTimeout(() => {
      finish();
      reject(new Error(`${presented} pictures presented and currentTime ${element.currentTime} `
        + `(from ${from}) within ${ms} ms; wanted ${wantFrames} and +${by} s`));
    }, ms);
  }), [frames, seconds, within]);
}

/** The page plays in Real-time: badge, a live MediaStream on the element, pictures, latency. */
async function playsRealtime(/** @type {string} */ screenshot) {
  await badgeSays('realtime');
  await player.and(page.locator('[data-status=playing]')).waitFor({ timeout: 20_000 });
  const source = await videoSource();
  if (source.kind !== 'mediastream' || !source.tracks?.includes('video:live')) {
    throw new Error(`the video does not play a live WebRTC stream: ${JSON.stringify(source)}`);
  }
  await advances(30, 1, 15_000);
  await latencyReadout.waitFor({ timeout: 10_000 });
  const text = (await latencyReadout.textContent()) ?? '';
  if (!/network \+ buffer/.test(text)) throw new Error(`the latency readout says "${text}" in Real-time`);
  await page.screenshot({ path: path.join(outDir, screenshot) });
  return text;
}

/** The page plays LL-HLS: badge, hls.js on a MediaSource URL, pictures, its own latency. */
async function playsLlhls(/** @type {string} */ screenshot) {
  await badgeSays('llhls');
  await player.and(page.locator('[data-status=playing]')).waitFor({ timeout: 20_000 });
  const source = await videoSource();
  if (source.kind !== 'url' || !source.src?.startsWith('blob:')) {
    throw new Error(`the video does not play through hls.js: ${JSON.stringify(source)}`);
  }
  await advances(30, 2, 20_000);
  await latencyReadout.waitFor({ timeout: 10_000 });
  const text = (await latencyReadout.textContent()) ?? '';
  if (!/behind live/.test(text)) throw new Error(`the latency readout says "${text}" in LL-HLS`);
  await page.screenshot({ path: path.join(outDir, screenshot) });
  return text;
}

try {
  await step('a: the watch page plays in Real-time by itself', async () => {
    const offered = whepResponse('POST', 20_000);
    await page.goto(watchUrl);
    const answer = await offered;
    if (answer.status() !== 201) throw new Error(`the WHEP offer got ${answer.status()}: ${await answer.text()}`);
    session = sessionPath(answer);
    latency.realtime = await playsRealtime('realtime.png');
    if (await page.locator('[data-testid=playback-fallback]').count()) {
      throw new Error('the page shows a fallback notice while playing in Real-time');
    }
    await ask('whep-viewer-connected');
  });

  await step('b: the viewer switches to LL-HLS: the WHEP session is DELETEd, hls.js plays on', async () => {
    const deleted = whepResponse('DELETE', 10_000);
    await modes.getByRole('button', { name: 'LL-HLS' }).click();
    const answer = await deleted;
    const ended = new URL(answer.url()).pathname;
    if (ended !== session) throw new Error(`the DELETE went to ${ended}, not to the session's ${session}`);
    await ask('whep-session-closed');
    latency.llhls = await playsLlhls('realtime-llhls.png');
    const pressed = await modes.getByRole('button', { name: 'LL-HLS' }).getAttribute('aria-pressed');
    if (pressed !== 'true') throw new Error(`the LL-HLS button is aria-pressed=${pressed}`);
    if (await page.locator('[data-testid=playback-fallback]').count()) {
      throw new Error('a switch asked for by the viewer shows a fallback notice');
    }
  });

  await step('c: back to Real-time: a new WHEP session plays', async () => {
    const offered = whepResponse('POST', 10_000);
    await modes.getByRole('button', { name: 'Real-time' }).click();
    const answer = await offered;
    if (answer.status() !== 201) throw new Error(`the WHEP offer got ${answer.status()}: ${await answer.text()}`);
    if (sessionPath(answer) === session) throw new Error(`the new offer got the old session ${session}`);
    latency.realtimeAgain = await playsRealtime('realtime-again.png');
    await ask('whep-viewer-connected-again');
  });

  await step('d: the encoder sends B-frames: WHEP answers 409, the player falls back to LL-HLS', async () => {
    // Leave the watch page (its session ends) while the encoder restarts with B-frames.
    await page.goto(`${base}/`);
    await ask('bframes-publisher');
    const offered = whepResponse('POST', 20_000);
    await page.goto(watchUrl);
    const answer = await offered;
    const body = await answer.text();
    if (answer.status() !== 409) throw new Error(`the WHEP offer got ${answer.status()}, not 409: ${body}`);
    const notice = page.locator('[data-testid=playback-fallback]');
    await notice.waitFor({ timeout: 10_000 });
    const said = (await notice.textContent()) ?? '';
    if (!/B-frames/.test(said) || !/LL-HLS/.test(said)) throw new Error(`the fallback notice says "${said}"`);
    latency.fallback = await playsLlhls('realtime-fallback.png');
  });

  await step('no uncaught errors', async () => {
    if (pageErrors.length) throw new Error(`uncaught page errors: ${pageErrors.join(' | ')}`);
  });
  console.log(JSON.stringify({ ok: true, steps, whep, latency }));
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  await page.screenshot({ path: path.join(outDir, 'failure-realtime.png'), fullPage: true })
    .catch(() => undefined);
  console.error(`e2e step failed: ${current()}: ${message}`);
  console.log(JSON.stringify({ ok: false, step: current(), error: message, pageErrors, steps, whep, latency }));
  process.exitCode = 1;
} finally {
  await browser.close();
  process.stdin.destroy();
}
