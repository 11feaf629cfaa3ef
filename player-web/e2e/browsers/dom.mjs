// @ts-check
// What the journey asks of a page beyond the adapter's primitives: elements found by their
// text (an accessible name, as a viewer reads it), and the player's state for a failure.
// Each function passed to `evaluate` runs in the page and sees only its arguments.

/** @typedef {import('./index.mjs').E2EPage} E2EPage */

let picks = 0;

/**
 * A CSS selector for the first element under `scope` matching `selector` whose text (or
 * aria-label, or its label's text for a form field) is `text` (a string: exactly, trimmed;
 * or a RegExp source as {re}); null while there is none.
 * @param {E2EPage} page
 * @param {string} selector
 * @param {string | {re: string}} text
 * @returns {Promise<string | null>}
 */
export async function pick(page, selector, text) {
  const id = `p${(picks += 1)}`;
  const found = await page.evaluate((selector, text, id) => {
    const matches = (/** @type {string} */ value) =>
      typeof text === 'string' ? value.trim() === text : new RegExp(text.re).test(value.trim());
    for (const element of document.querySelectorAll(selector)) {
      const label = element instanceof HTMLInputElement || element instanceof HTMLTextAreaElement
        ? [...(element.labels ?? [])].map((l) => l.textContent ?? '').join(' ') : '';
      const names = [element.textContent ?? '', element.getAttribute('aria-label') ?? '', label];
      if (names.some(matches)) {
        element.setAttribute('data-e2e-pick', id);
        return true;
      }
    }
    return false;
  }, selector, text, id);
  return found ? `[data-e2e-pick="${id}"]` : null;
}

/** Waits for the element `pick` finds and resolves with its selector. */
export async function waitForPick(/** @type {E2EPage} */ page, /** @type {string} */ what,
  /** @type {string} */ selector, /** @type {string | {re: string}} */ text, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await pick(page, selector, text).catch(() => null);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${Math.round(timeoutMs / 1000)} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Clicks the element `pick` finds, once it is there. */
export async function clickText(/** @type {E2EPage} */ page, /** @type {string} */ selector,
  /** @type {string | {re: string}} */ text, timeoutMs = 15_000) {
  const target = await waitForPick(page, `no ${selector} reading ${JSON.stringify(text)}`, selector, text, timeoutMs);
  await page.click(target);
}

/** Waits until an element matching `selector` exists (and, with `text`, contains it). */
export function waitForElement(/** @type {E2EPage} */ page, /** @type {string} */ what,
  /** @type {string} */ selector, /** @type {string | undefined} */ text = undefined, timeoutMs = 15_000) {
  return page.waitFor(what, (selector, text) => [...document.querySelectorAll(selector)]
    .some((element) => text === null || (element.textContent ?? '').includes(text)), [selector, text ?? null], timeoutMs);
}

/** The player and its video element as they are now: for a report, or a failure's artifacts. */
export function playerState(/** @type {E2EPage} */ page) {
  return page.evaluate(() => {
    const player = document.querySelector('[data-testid=live-player]');
    const video = /** @type {HTMLVideoElement | null} */ (document.querySelector('[data-testid=live-player] video'));
    const ranges = (/** @type {TimeRanges | undefined} */ r) =>
      r ? Array.from({ length: r.length }, (_, i) => [r.start(i), r.end(i)]) : [];
    return {
      location: location.href,
      player: player ? Object.fromEntries([...player.attributes].filter((a) => a.name.startsWith('data-'))
        .map((a) => [a.name, a.value])) : null,
      video: video ? {
        currentSrc: video.currentSrc, currentTime: video.currentTime, paused: video.paused, seeking: video.seeking,
        muted: video.muted, readyState: video.readyState, networkState: video.networkState,
        error: video.error ? { code: video.error.code, message: video.error.message } : null,
        buffered: ranges(video.buffered), seekable: ranges(video.seekable),
        size: [video.videoWidth, video.videoHeight],
      } : null,
    };
  });
}
