// @ts-check
// The web app end to end, against a real mediad with a real publisher: a viewer finds the
// stream, watches it, sees another viewer's chat and a tip; the creator signs in to the
// control room, rotates the primary key, turns on slow mode and ends the stream, and the
// viewer sees each change. playwright-core drives Debian's Chromium (never a downloaded one).
//
//   node e2e/watch-and-control.mjs --base URL --stream ID --admin-password PW \
//     --webhook-secret SECRET --out DIR
//
// Prints one JSON line: {"ok": true, "ttffMs", "steps": [{"name", "ms"}], "cmcd": {"inHeaders",
// "inUrl"}} (viewer A's LL-HLS requests with CMCD in their headers, in the URL); on a failure
// {"ok": false, "step", "error", ...}, a line on stderr naming the step, screenshots of every
// page as DIR/failure-*.png, and exit code 1. The publisher must not use the primary key:
// rotating it (step f) would disconnect it and end the stream before step g.
import { createHmac } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { launchChromium } from './chromium.mjs';
import { stepRecorder } from './steps.mjs';

/** @typedef {import('playwright-core').Page} Page */

const { values: opts } = parseArgs({
  options: {
    base: { type: 'string' },
    stream: { type: 'string' },
    'admin-password': { type: 'string' },
    'webhook-secret': { type: 'string' },
    out: { type: 'string' },
  },
});
const base = opts.base?.replace(/\/+$/, '');
const streamId = opts.stream;
const adminPassword = opts['admin-password'];
const webhookSecret = opts['webhook-secret'];
const outDir = opts.out;
if (!base || !streamId || !adminPassword || !webhookSecret || !outDir) {
  console.error('usage: node e2e/watch-and-control.mjs --base URL --stream ID '
    + '--admin-password PW --webhook-secret SECRET --out DIR');
  process.exit(2);
}
const watchPath = `/watch/${encodeURIComponent(streamId)}`;

const { steps, step, current } = stepRecorder();

/** Awaits a bounded wait; on failure says what was expected, in words, then why it failed. */
async function expectWithin(/** @type {string} */ what, /** @type {Promise<unknown>} */ wait) {
  try {
    await wait;
  } catch (error) {
    const detail = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new Error(`${what} (${detail})`);
  }
}

/** Signs a tip the way a payment provider does (docs/realtime.md, "Tips webhook"). */
function signature(/** @type {string} */ secret, /** @type {string} */ body) {
  const t = Math.floor(Date.now() / 1000);
  const digest = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  return `t=${t},v1=${digest}`;
}

await mkdir(outDir, { recursive: true });
const browser = await launchChromium();
/** @type {Map<string, Page>} */
const pages = new Map();
/** @type {string[]} Uncaught exceptions in the app: none is acceptable, whatever the steps saw. */
const pageErrors = [];

/** A page in its own browser context: its own cookies, so its own guest or session. */
async function openContext(/** @type {string} */ name) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (error) => pageErrors.push(`${name}: ${error.message}`));
  pages.set(name, page);
  return page;
}

let ttffMs = NaN;
/** Viewer A's LL-HLS requests that carried CMCD in their headers (and none in the URL). */
const cmcd = { inHeaders: 0, inUrl: 0 };
try {
  const viewer = await openContext('viewer-a');
  viewer.on('request', (request) => {
    if (!new URL(request.url()).pathname.startsWith('/hls/')) return;
    if (request.headers()['cmcd-session']?.includes('sid=')) cmcd.inHeaders += 1;
    if (new URL(request.url()).searchParams.has('CMCD')) cmcd.inUrl += 1;
  });
  const chat = viewer.locator('section.live-chat');

  await step('a: the discovery page lists the stream and opens it', async () => {
    await viewer.goto(`${base}/`);
    const card = viewer.locator(`.live-card a[href=${JSON.stringify(watchPath)}]`);
    // The page loads the list once: a stream that went live a moment later needs a reload.
    const deadline = Date.now() + 20_000;
    while (!(await card.waitFor({ timeout: 3000 }).then(() => true, () => false))) {
      if (Date.now() > deadline) {
        throw new Error(`no LiveCard links to ${watchPath} on the discovery page within 20 s`);
      }
      await viewer.reload();
    }
    await card.click();
    await expectWithin(`clicking the card did not open ${watchPath}`,
      viewer.waitForURL((url) => url.pathname === watchPath, { timeout: 5000 }));
  });

  await step('b: the player shows the first frame and playback advances', async () => {
    const player = viewer.locator('[data-testid=live-player]');
    await expectWithin('the player never reached data-status="playing" within 30 s',
      player.and(viewer.locator('[data-status=playing]')).waitFor({ timeout: 30_000 }));
    ttffMs = Number(await player.getAttribute('data-ttff-ms'));
    if (!Number.isFinite(ttffMs) || ttffMs <= 0) {
      throw new Error(`data-ttff-ms is not a positive number: ${await player.getAttribute('data-ttff-ms')}`);
    }
    const video = player.locator('video');
    const startedAt = await video.evaluate((v) => /** @type {HTMLVideoElement} */ (v).currentTime);
    await expectWithin(`the video's currentTime did not advance 1 s past ${startedAt} within 15 s`,
      video.evaluate((v, from) => new Promise((resolve, reject) => {
        const element = /** @type {HTMLVideoElement} */ (v);
        const timer = setTimeout(() => reject(new Error(`currentTime ${element.currentTime}`)), 15_000);
        const check = () => {
          if (element.currentTime >= from + 1) {
            clearTimeout(timer);
            element.removeEventListener('timeupdate', check);
            resolve(undefined);
          }
        };
        element.addEventListener('timeupdate', check);
        check();
      }), startedAt));
  });

  await step('c: a second viewer chats; the first sees the text, not markup', async () => {
    const other = await openContext('viewer-b');
    await other.goto(`${base}${watchPath}`);
    const input = other.getByLabel('Message', { exact: true });
    await expectWithin('viewer B\'s chat input never became enabled',
      input.and(other.locator(':enabled')).waitFor());
    const text = `e2e <b>not bold</b> ${Date.now()}`;
    await input.fill(text);
    await input.press('Enter');
    const line = chat.locator('li.message .text').filter({ hasText: text });
    try {
      await line.first().waitFor({ timeout: 10_000 });
    } catch {
      const notice = await other.locator('section.live-chat .notice').allTextContents();
      throw new Error(`viewer A never showed ${JSON.stringify(text)} in the chat within 10 s`
        + (notice.length ? `; viewer B was told: ${notice.join(' | ')}` : ''));
    }
    const shown = await line.first().textContent();
    if (shown !== text) throw new Error(`viewer A shows ${JSON.stringify(shown)}, sent ${JSON.stringify(text)}`);
    // The text must be rendered as text: markup in a message never becomes elements.
    const bold = await chat.locator('.messages b').count();
    if (bold !== 0) throw new Error(`the chat rendered a message's markup: ${bold} <b> element(s)`);
  });

  await step('d: a signed tip webhook shows in the viewer\'s tip ticker', async () => {
    const body = JSON.stringify({
      streamId, idempotencyKey: `e2e-${Date.now()}`, amountMinor: 500, currency: 'EUR',
      from: 'E2E Fan', message: 'great show',
    });
    const response = await fetch(`${base}/api/webhooks/tips`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Mediad-Signature': signature(webhookSecret, body) },
      body,
      signal: AbortSignal.timeout(10_000),
    });
    if (response.status !== 201) {
      throw new Error(`POST /api/webhooks/tips answered ${response.status}: ${await response.text()}`);
    }
    // The ticker shows each tip for 8 s: look for it at once.
    await expectWithin('viewer A\'s .tip-ticker never showed "E2E Fan" within 10 s',
      viewer.locator('.tip-ticker').filter({ hasText: 'E2E Fan' }).waitFor({ timeout: 10_000 }));
  });

  await step('e: screenshot of the watch page', async () => {
    // The tip slides in from beyond the right edge; with reduced motion the app pins it in
    // place, so the artifact shows it.
    await viewer.emulateMedia({ reducedMotion: 'reduce' });
    await viewer.screenshot({ path: path.join(outDir, 'watch-page.png') });
    await viewer.emulateMedia({ reducedMotion: null });
  });

  const creator = await openContext('creator-c');
  await step('f: the creator signs in, rotates the primary key and sets slow mode', async () => {
    await creator.goto(`${base}/studio`);
    await creator.getByLabel('Handle').fill('admin');
    await creator.getByLabel('Password').fill(adminPassword);
    await creator.getByRole('button', { name: 'Sign in' }).click();
    await expectWithin('the control room did not open after signing in as admin',
      creator.getByRole('heading', { name: 'Control room' }).waitFor());

    const row = creator.locator('[data-testid=key-primary]');
    const secret = row.locator('code.secret');
    await secret.waitFor();
    const masked = await secret.textContent();
    await row.getByRole('button', { name: 'Rotate…' }).click();
    await row.getByRole('button', { name: 'Rotate', exact: true }).click();
    // A full key (token_urlsafe(24) after the prefix), not the masked "live_••••••••abcd".
    const full = row.locator('code.secret').filter({ hasText: /^live_[A-Za-z0-9_-]{32}$/ });
    await expectWithin(`the primary key row never showed a new full key (it showed ${JSON.stringify(masked)})`,
      full.waitFor({ timeout: 10_000 }));
    const key = String(await full.textContent());
    if (masked && key.slice(-4) === masked.slice(-4)) {
      throw new Error(`the key shown after rotating ends like the old one: ${JSON.stringify(masked)}`);
    }
    // Keep the key out of the CI screenshot, as the card itself advises.
    await row.getByRole('button', { name: 'Hide' }).click();

    const settings = creator.locator('form.settings-panel');
    await settings.getByLabel(/^Slow mode/).fill('10');
    await settings.getByRole('button', { name: 'Save settings' }).click();
    await expectWithin('the settings panel never said "Saved."',
      settings.locator('.notice').filter({ hasText: /^Saved\.$/ }).waitFor({ timeout: 10_000 }));
    await expectWithin('viewer A\'s chat header never showed "slow mode 10 s" (stream.settings)',
      chat.locator('header .mode').filter({ hasText: /^slow mode 10 s$/ }).waitFor({ timeout: 10_000 }));
    await creator.screenshot({ path: path.join(outDir, 'control-room.png'), fullPage: true });
  });

  await step('g: the creator ends the stream; the viewer sees it end', async () => {
    const status = creator.locator('section.status-control');
    await status.getByRole('button', { name: 'End…' }).click();
    await status.getByRole('button', { name: 'End stream' }).click();
    await expectWithin('viewer A never showed [data-testid=stream-ended] within 15 s',
      viewer.locator('[data-testid=stream-ended]').filter({ hasText: 'The stream has ended.' })
        .waitFor({ timeout: 15_000 }));
  });

  await step('no uncaught errors in any page', async () => {
    if (pageErrors.length) throw new Error(`uncaught page errors: ${pageErrors.join(' | ')}`);
  });

  console.log(JSON.stringify({ ok: true, ttffMs, steps, cmcd }));
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  for (const [name, page] of pages) {
    await page.screenshot({ path: path.join(outDir, `failure-${name}.png`), fullPage: true })
      .catch(() => undefined); // a page that crashed cannot be photographed; the report still counts
  }
  console.error(`e2e step failed: ${current()}: ${message}`);
  console.log(JSON.stringify({ ok: false, step: current(), error: message, pageErrors, steps }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
