// @ts-check
// The web app end to end, in one engine of three (Chromium, Firefox ESR, WebKitGTK: see
// browsers/index.mjs), against a real mediad with a real publisher. A viewer finds the
// stream and watches it (muted by itself, unmuted with a click), on the path this engine
// takes (hls.js over MSE, or the browser's own HLS); sees another viewer's chat and a tip;
// keeps chatting over HTTP polling while WebSockets are blocked and returns to its WebSocket
// when they are not; the creator signs in to the control room, rotates the primary key, sets
// slow mode and the age restriction; a new viewer meets the age gate; the creator ends the
// stream and the viewer sees it end.
//
//   node e2e/journey.mjs --engine chromium|firefox|webkit [--native-hls] [--only playback]
//     --base URL --stream ID --admin-password PW --webhook-secret SECRET --out DIR
//
// --base should be a proxy the caller controls: the script asks it, on stdout, to
// {"wait": "block-websockets"} (refuse upgrades, drop the open ones) and later
// {"wait": "allow-websockets"}, and waits for "done" on stdin each time (caller.mjs).
// --native-hls runs WebKit with an MSE that cannot decode H.264: the player must choose the
// browser's own HLS. --only playback stops after the playback steps.
//
// Every step leaves a screenshot in DIR/<NN>-<step>.png. Prints one JSON line: {"ok": true,
// "engine", "browser", "ttffMs", "path", "codecs", "steps", "cmcd", "console"}; on a failure
// {"ok": false, "step", "error", ...}, a line on stderr naming the step, and for each page
// DIR/failure-<page>.png, .html and .json (its console, uncaught errors and player state).
// The publisher must not use the primary key: rotating it would end the stream early.
import { createHmac } from 'node:crypto';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { callerRequests } from './caller.mjs';
import { clickText, pick, playerState, waitForElement, waitForPick } from './browsers/dom.mjs';
import { ENGINES, launchBrowser } from './browsers/index.mjs';
import { stepRecorder } from './steps.mjs';

/** @typedef {import('./browsers/index.mjs').E2EPage} E2EPage */

const { values: opts } = parseArgs({
  options: {
    engine: { type: 'string' },
    'native-hls': { type: 'boolean', default: false },
    only: { type: 'string' },
    base: { type: 'string' },
    stream: { type: 'string' },
    'admin-password': { type: 'string' },
    'webhook-secret': { type: 'string' },
    out: { type: 'string' },
  },
});
const engine = /** @type {import('./browsers/index.mjs').EngineName} */ (opts.engine);
const base = opts.base?.replace(/\/+$/, '');
const streamId = opts.stream;
const adminPassword = opts['admin-password'];
const webhookSecret = opts['webhook-secret'];
const outDir = opts.out;
const nativeHls = opts['native-hls'] === true;
const playbackOnly = opts.only === 'playback';
if (!ENGINES.includes(engine) || !base || !streamId || !adminPassword || !webhookSecret || !outDir
    || (nativeHls && engine !== 'webkit') || (opts.only !== undefined && !playbackOnly)) {
  console.error(`usage: node e2e/journey.mjs --engine ${ENGINES.join('|')} [--native-hls (webkit)] `
    + '[--only playback] --base URL --stream ID --admin-password PW --webhook-secret SECRET --out DIR');
  process.exit(2);
}
const watchPath = `/watch/${encodeURIComponent(streamId)}`;
const expectedPath = nativeHls ? 'native' : 'hlsjs';
const ask = callerRequests();
const { steps, step: recordStep, current } = stepRecorder();

/** Signs a tip the way a payment provider does (docs/realtime.md, "Tips webhook"). */
function signature(/** @type {string} */ secret, /** @type {string} */ body) {
  const t = Math.floor(Date.now() / 1000);
  const digest = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  return `t=${t},v1=${digest}`;
}

await mkdir(outDir, { recursive: true });
// The artifacts must be this run's: an earlier run's step screenshots and failures go.
for (const name of await readdir(outDir)) {
  if (/^(\d\d-.+\.png|failure-.+\.(png|html|json))$/.test(name)) await rm(path.join(outDir, name));
}
const browser = await launchBrowser(engine, { nativeHls });
/** @type {Map<string, E2EPage>} */
const pages = new Map();

function openPage(/** @type {string} */ name) {
  const page = browser.newPage(name);
  pages.set(name, page);
  return page;
}

/** A step, then a screenshot of the page it was about. */
async function step(/** @type {string} */ name, /** @type {E2EPage} */ shown, /** @type {() => Promise<void>} */ body) {
  await recordStep(name, body);
  const file = `${String(steps.length).padStart(2, '0')}-${name.split(':')[0]}-${shown.name}.png`;
  await shown.screenshot(path.join(outDir, file));
}

/** The chat's transport on a page: "socket", "polling", "connecting" or "closed". */
function chatTransport(/** @type {E2EPage} */ page) {
  return page.evaluate(() => document.querySelector('section.live-chat')?.getAttribute('data-transport') ?? null);
}

/** Sends a chat message from `page` and waits until `watcher` shows it, as text. */
async function chat(/** @type {E2EPage} */ page, /** @type {E2EPage} */ watcher, /** @type {string} */ text, timeoutMs = 10_000) {
  const input = 'section.live-chat input[aria-label="Message"], section.live-chat textarea[aria-label="Message"]';
  await page.waitFor(`${page.name}'s chat input never became enabled`,
    (selector) => document.querySelector(selector)?.matches(':enabled') ?? false, [input]);
  await page.fill(input, text);
  await page.pressEnter(input);
  try {
    await watcher.waitFor(`${watcher.name} never showed the message`, (text) => [...document.querySelectorAll('section.live-chat li.message .text')]
      .some((element) => element.textContent === text), [text], timeoutMs);
  } catch (error) {
    const notice = await page.evaluate(() => [...document.querySelectorAll('section.live-chat .notice')].map((n) => n.textContent));
    throw new Error(`${watcher.name} never showed ${JSON.stringify(text)} in the chat within ${timeoutMs / 1000} s`
      + (notice.length ? `; ${page.name} was told: ${notice.join(' | ')}` : ''), { cause: error });
  }
}

/** Waits for the page's player to show a frame and play on for a second. */
async function playing(/** @type {E2EPage} */ page) {
  await page.waitFor('the player never reached data-status="playing"',
    () => document.querySelector('[data-testid=live-player]')?.getAttribute('data-status') === 'playing', [], 30_000);
  await page.waitFor('the video\'s currentTime did not advance 1 s within 15 s', () => new Promise((resolve) => {
    const video = /** @type {HTMLVideoElement} */ (document.querySelector('[data-testid=live-player] video'));
    const from = video.currentTime;
    const timer = setTimeout(() => resolve(false), 5000);
    const check = () => {
      if (video.currentTime < from + 1) return;
      clearTimeout(timer);
      video.removeEventListener('timeupdate', check);
      resolve(true);
    };
    video.addEventListener('timeupdate', check);
  }), [], 15_000);
}

let ttffMs = NaN;
/** @type {unknown} */
let codecs = null;
try {
  const viewer = openPage('viewer-a');

  await step('a: the discovery page lists the stream and opens it', viewer, async () => {
    await viewer.goto(`${base}/`);
    const card = `.live-card a[href="${watchPath}"]`;
    // The page loads the list once: a stream that went live a moment later needs a reload.
    const deadline = Date.now() + 20_000;
    while (!(await waitForElement(viewer, 'card', card, undefined, 3000).then(() => true, () => false))) {
      if (Date.now() > deadline) throw new Error(`no LiveCard links to ${watchPath} on the discovery page within 20 s`);
      await viewer.reload();
    }
    // Its picture, as a viewer clicks it (WebKit's WebDriver finds no box at the centre of
    // an inline link that holds blocks).
    await viewer.click(`${card} .poster`);
    await viewer.waitFor(`clicking the card did not open ${watchPath}`, (want) => location.pathname === want, [watchPath], 5000);
  });

  await step('b: the player plays muted by itself, on the path this engine takes', viewer, async () => {
    // What the element did to its sound, for a failure report (WebKitGTK unmutes it by itself).
    await viewer.evaluate(() => {
      const video = document.querySelector('[data-testid=live-player] video');
      const record = /** @type {{e2eMedia?: unknown[]}} */ (window);
      if (!video || record.e2eMedia) return;
      const seen = /** @type {unknown[]} */ ([]);
      record.e2eMedia = seen;
      for (const type of ['volumechange', 'play', 'pause', 'playing']) {
        video.addEventListener(type, () => seen.push([Math.round(performance.now()), type,
          /** @type {HTMLVideoElement} */ (video).muted]));
      }
    });
    await viewer.waitFor('the player never reached data-status="playing" with its data-ttff-ms', () => {
      const player = document.querySelector('[data-testid=live-player]');
      return player?.getAttribute('data-status') === 'playing' && player.hasAttribute('data-ttff-ms');
    }, [], 30_000);
    const state = await playerState(viewer);
    ttffMs = Number(state.player?.['data-ttff-ms']);
    if (!Number.isFinite(ttffMs) || ttffMs <= 0) throw new Error(`data-ttff-ms is not a positive number: ${JSON.stringify(state.player)}`);
    const ran = state.player?.['data-engine'];
    if (ran !== expectedPath) throw new Error(`the player chose ${ran}, not ${expectedPath}, in this ${browser.version}`);
    // No gesture yet: the browser lets it play only because it is muted. WebKitGTK unmutes
    // the element by itself and the app mutes it again on the event: a starved page may
    // be caught in between, so it gets a moment to settle.
    await viewer.waitFor('before any click the video did not settle muted and playing', () => {
      const video = /** @type {HTMLVideoElement} */ (document.querySelector('[data-testid=live-player] video'));
      return video.muted && !video.paused;
    }, [], 3000).catch(async (error) => {
      const events = await viewer.evaluate(() => /** @type {{e2eMedia?: unknown[]}} */ (window).e2eMedia ?? null);
      const video = (await playerState(viewer)).video;
      throw new Error(`${error.message}: the video is ${JSON.stringify(video)}; its events [ms, type, muted]: ${JSON.stringify(events)}`);
    });
    codecs = await viewer.evaluate(async (id) => {
      const detail = await (await fetch(`/api/streams/${encodeURIComponent(id)}`)).json();
      // The page's own origin (the playlist may be named on another, the media origin's).
      const playlist = await (await fetch(new URL(detail.hlsUrl).pathname)).text();
      const Source = window.ManagedMediaSource ?? window.MediaSource;
      const video = document.createElement('video');
      return {
        native: video.canPlayType('application/vnd.apple.mpegurl'),
        variants: [...playlist.matchAll(/CODECS="([^"]+)"/g)].map(([, list]) => ({
          codecs: list,
          mse: Boolean(Source?.isTypeSupported(`video/mp4; codecs="${list}"`)),
          element: video.canPlayType(`video/mp4; codecs="${list}"`),
        })),
      };
    }, streamId);
    const variants = /** @type {{variants: {codecs: string, mse: boolean}[], native: string}} */ (codecs);
    if (!variants.variants.length) throw new Error('the multivariant playlist names no CODECS');
    if (expectedPath === 'hlsjs' && !variants.variants.every((v) => v.mse)) {
      throw new Error(`the player took hls.js though MSE refuses a variant's codecs: ${JSON.stringify(codecs)}`);
    }
    if (expectedPath === 'native' && (variants.variants.some((v) => v.mse) || !variants.native)) {
      throw new Error(`native HLS was expected where MSE refuses the codecs and <video> plays HLS: ${JSON.stringify(codecs)}`);
    }
    await playing(viewer);
  });

  await step('c: a click unmutes it, and it plays on with sound', viewer, async () => {
    await clickText(viewer, '[data-testid=live-player] .controls button', 'Unmute');
    await viewer.waitFor('the video was still muted after clicking Unmute', () => {
      const video = /** @type {HTMLVideoElement} */ (document.querySelector('[data-testid=live-player] video'));
      return !video.muted && !video.paused;
    }, [], 5000);
    await waitForElement(viewer, 'the button never said "Mute"', '[data-testid=live-player] .controls button', 'Mute', 5000);
    await playing(viewer);
    await viewer.collect();
    const refused = [...viewer.console, ...viewer.errors.map((text) => ({ level: 'error', text }))]
      .filter((entry) => entry.level === 'error' && /play|autoplay|NotAllowed/i.test(entry.text));
    if (refused.length) throw new Error(`the console reported playback refusals: ${JSON.stringify(refused)}`);
  });

  if (!playbackOnly) await social(viewer);

  await step('z: no uncaught errors, no errors in the console of any page', viewer, async () => {
    const errors = [];
    for (const [name, page] of pages) {
      await page.collect();
      errors.push(...page.errors.map((text) => `${name}: uncaught ${text}`));
      // The browser saying a WebSocket was refused is what step e asked for.
      errors.push(...page.console.filter((entry) => entry.level === 'error' && !/WebSocket|\/ws\/streams\//.test(entry.text))
        .map((entry) => `${name}: console ${entry.text}`));
    }
    if (errors.length) throw new Error(errors.join(' | '));
  });

  const consoleErrors = Object.fromEntries([...pages].map(([name, page]) =>
    [name, page.console.filter((entry) => entry.level === 'error').map((entry) => entry.text)]));
  console.log(JSON.stringify({
    ok: true, engine, browser: browser.version, ttffMs, path: expectedPath, codecs, steps,
    cmcd: pages.get('viewer-a')?.cmcd ?? null, console: consoleErrors,
  }));
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  for (const [name, page] of pages) {
    if (page.closed) continue;
    await page.collect().catch(() => undefined);
    const state = await playerState(page).catch((e) => ({ unavailable: String(e) }));
    await writeFile(path.join(outDir, `failure-${name}.json`),
      JSON.stringify({ console: page.console, errors: page.errors, state }, null, 2)).catch(() => undefined);
    await writeFile(path.join(outDir, `failure-${name}.html`), await page.html().catch(() => ''))
      .catch(() => undefined);
    // A page that crashed cannot be photographed; the report still counts.
    await page.screenshot(path.join(outDir, `failure-${name}.png`)).catch(() => undefined);
  }
  console.error(`e2e step failed (${engine}): ${current()}: ${message}`);
  console.log(JSON.stringify({ ok: false, engine, browser: browser.version, step: current(), error: message, steps }));
  process.exitCode = 1;
} finally {
  await browser.close();
  process.stdin.destroy(); // the caller's channel (caller.mjs) would keep the process alive
}

/** Chat, the polling fallback, a tip, the control room, the age gate and the end. */
async function social(/** @type {E2EPage} */ viewer) {
  const other = openPage('viewer-b');

  await step('d: a second viewer chats; the first sees the text, not markup', other, async () => {
    await other.goto(`${base}${watchPath}`);
    await chat(other, viewer, `e2e <b>not bold</b> ${Date.now()}`);
    const bold = await viewer.evaluate(() => document.querySelectorAll('section.live-chat .messages b').length);
    if (bold !== 0) throw new Error(`the chat rendered a message's markup: ${bold} <b> element(s)`);
  });

  await step('e: with WebSockets blocked, chat goes on over HTTP polling', viewer, async () => {
    await ask('block-websockets');
    for (const page of [viewer, other]) {
      await page.waitFor(`${page.name}'s chat never fell back to polling`,
        () => document.querySelector('section.live-chat')?.getAttribute('data-transport') === 'polling', [], 10_000);
    }
    await chat(other, viewer, `e2e over polling ${Date.now()}`, 12_000);
    await ask('allow-websockets');
  });
  // Two cores decode every page's video: a page done with leaves.
  await other.close();

  await step('f: a signed tip webhook shows in the viewer\'s tip ticker', viewer, async () => {
    const body = JSON.stringify({
      streamId, idempotencyKey: `e2e-${engine}-${Date.now()}`, amountMinor: 500, currency: 'EUR',
      from: 'E2E Fan', message: 'great show',
    });
    const response = await fetch(`${base}/api/webhooks/tips`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Mediad-Signature': signature(String(webhookSecret), body) },
      body,
      signal: AbortSignal.timeout(10_000),
    });
    if (response.status !== 201) throw new Error(`POST /api/webhooks/tips answered ${response.status}: ${await response.text()}`);
    // The ticker shows each tip for 8 s: look for it at once.
    await waitForElement(viewer, 'viewer A\'s .tip-ticker never showed "E2E Fan"', '.tip-ticker', 'E2E Fan', 10_000);
  });

  const creator = openPage('creator-c');
  await step('g: the creator signs in, rotates the primary key, sets slow mode and 18+', creator, async () => {
    await creator.goto(`${base}/studio`);
    await creator.fill(String(await waitForPick(creator, 'no Handle field', 'input', 'Handle')), 'admin');
    await creator.fill(String(await pick(creator, 'input', 'Password')), String(adminPassword));
    await clickText(creator, 'button', 'Sign in');
    await waitForPick(creator, 'the control room did not open after signing in as admin', 'h1, h2', 'Control room');

    const row = '[data-testid=key-primary]';
    await waitForElement(creator, 'no primary key row', `${row} code.secret`);
    const masked = await creator.evaluate((row) => document.querySelector(`${row} code.secret`)?.textContent ?? '', row);
    await clickText(creator, `${row} button`, 'Rotate…');
    await clickText(creator, `${row} button`, 'Rotate');
    // A full key (token_urlsafe(24) after the prefix), not the masked "live_••••••••abcd".
    const key = await creator.waitFor(`the primary key row never showed a new full key (it showed ${JSON.stringify(masked)})`,
      (row) => {
        const text = document.querySelector(`${row} code.secret`)?.textContent ?? '';
        return /^live_[A-Za-z0-9_-]{32}$/.test(text) ? text : null;
      }, [row], 10_000);
    if (masked && key.slice(-4) === masked.slice(-4)) throw new Error(`the key shown after rotating ends like the old one: ${JSON.stringify(masked)}`);
    // Keep the key out of the CI screenshot, as the card itself advises.
    await clickText(creator, `${row} button`, 'Hide');

    const form = 'form.settings-panel';
    await creator.fill(String(await waitForPick(creator, 'no slow mode field', `${form} input`, { re: '^Slow mode' })), '10');
    const restricted = String(await pick(creator, `${form} input[type=checkbox]`, { re: '^Age-restricted' }));
    if (!(await creator.evaluate((s) => /** @type {HTMLInputElement} */ (document.querySelector(s)).checked, restricted))) {
      await creator.click(restricted);
    }
    await clickText(creator, `${form} button`, 'Save settings');
    await creator.waitFor('the settings panel never said "Saved."', (form) => [...document.querySelectorAll(`${form} .notice`)]
      .some((n) => n.textContent === 'Saved.'), [form], 10_000);
    await viewer.waitFor('viewer A\'s chat header never showed "slow mode 10 s" (stream.settings)',
      () => [...document.querySelectorAll('section.live-chat header .mode')].some((m) => m.textContent === 'slow mode 10 s'), [], 10_000);
  });

  const newcomer = openPage('viewer-d');
  await step('h: a new viewer meets the age gate; consent plays it and is remembered', newcomer, async () => {
    await newcomer.goto(`${base}${watchPath}`);
    await waitForElement(newcomer, 'the age gate never showed', 'section.age-card', 'Age-restricted stream', 10_000);
    const before = await newcomer.evaluate(() => ({
      player: document.querySelectorAll('[data-testid=live-player]').length,
      media: performance.getEntriesByType('resource').filter((entry) => /\/hls\/|\/whep\//.test(entry.name)).length,
    }));
    if (before.player || before.media) throw new Error(`behind the age gate the stream loaded: ${JSON.stringify(before)}`);
    await clickText(newcomer, 'section.age-card button', 'I am 18 or older');
    await newcomer.waitFor('the player never played after the consent',
      () => document.querySelector('[data-testid=live-player]')?.getAttribute('data-status') === 'playing', [], 30_000);
    await newcomer.reload();
    await newcomer.waitFor('after a reload the consent was forgotten (or the player never played)', () =>
      !document.querySelector('section.age-card')
        && document.querySelector('[data-testid=live-player]')?.getAttribute('data-status') === 'playing', [], 30_000);
  });

  await newcomer.close();

  await step('i: the first viewer\'s chat is back on its WebSocket', viewer, async () => {
    // It tries again 15 s after the drop; a message afterwards travels over the socket.
    await viewer.waitFor('viewer A\'s chat never went back to its WebSocket', () =>
      document.querySelector('section.live-chat')?.getAttribute('data-transport') === 'socket', [], 30_000);
    const transport = await chatTransport(viewer);
    if (transport !== 'socket') throw new Error(`viewer A's chat is on ${transport}`);
  });

  await step('j: the creator ends the stream; the viewer sees it end', viewer, async () => {
    await clickText(creator, 'section.status-control button', 'End…');
    await clickText(creator, 'section.status-control button', 'End stream');
    await waitForElement(viewer, 'viewer A never showed [data-testid=stream-ended]', '[data-testid=stream-ended]', 'The stream has ended.', 15_000);
  });
}
