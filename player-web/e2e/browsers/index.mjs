// @ts-check
// One small adapter over three browser engines, so that one journey script drives them all:
// Debian's Chromium through playwright-core, Debian's Firefox ESR over WebDriver BiDi
// through puppeteer-core, and Debian's WebKitGTK (MiniBrowser) through WebKitWebDriver over
// classic WebDriver, on a virtual display. None is a downloaded build.
//
// A driver supplies a `PageCore` per isolated page (its own cookies and storage); `E2EPage`
// adds what every engine shares: evaluating a function in the page, waiting for a condition,
// and the console and uncaught errors as they came.

/** @typedef {'chromium' | 'firefox' | 'webkit'} EngineName */
/** @typedef {{level: string, text: string}} ConsoleEntry */

/**
 * What a driver implements for one page.
 * @typedef {object} PageCore
 * @property {(url: string) => Promise<void>} goto  navigates and waits for the load event
 * @property {() => Promise<void>} reload
 * @property {() => Promise<string>} url
 * @property {(expression: string) => Promise<unknown>} run  evaluates a JS expression in the
 *   page; a promise it yields is awaited; the result comes back as JSON
 * @property {(selector: string) => Promise<void>} click  a trusted click (a user gesture)
 * @property {(selector: string, text: string) => Promise<void>} fill  clears, then types
 * @property {(selector: string) => Promise<void>} pressEnter
 * @property {(path: string) => Promise<void>} screenshot  the viewport, as PNG
 * @property {() => Promise<string>} html
 * @property {() => Promise<void>} close
 * @property {() => Promise<void>} [collect]  brings console entries gathered in the page
 *   itself (where the driver has no console events) into `console` and `errors`
 */

/** Counts an LL-HLS request's CMCD into `page.cmcd` (for the drivers that see requests). */
export function countCmcd(/** @type {E2EPage} */ page, /** @type {string} */ url, /** @type {Record<string, string>} */ headers) {
  const { pathname, searchParams } = new URL(url);
  if (!pathname.startsWith('/hls/')) return;
  page.cmcd ??= { inHeaders: 0, inUrl: 0 };
  if (headers['cmcd-session']?.includes('sid=')) page.cmcd.inHeaders += 1;
  if (searchParams.has('CMCD')) page.cmcd.inUrl += 1;
}

/** Engine names as `--engine` takes them. */
export const ENGINES = /** @type {const} */ (['chromium', 'firefox', 'webkit']);

export class E2EPage {
  constructor(/** @type {string} */ name, /** @type {(page: E2EPage) => Promise<PageCore>} */ open) {
    this.name = name;
    /** @type {ConsoleEntry[]} */
    this.console = [];
    /** @type {string[]} uncaught exceptions and unhandled rejections */
    this.errors = [];
    /** @type {{inHeaders: number, inUrl: number} | null} LL-HLS requests carrying CMCD, in
     * their headers and in their URL; null where the driver does not see requests */
    this.cmcd = null;
    this.closed = false;
    this.opening = open(this);
  }

  async core() { return this.opening; }
  async goto(/** @type {string} */ url) { await (await this.core()).goto(url); }
  async reload() { await (await this.core()).reload(); }
  async url() { return (await this.core()).url(); }
  async click(/** @type {string} */ selector) { await (await this.core()).click(selector); }
  async fill(/** @type {string} */ selector, /** @type {string} */ text) { await (await this.core()).fill(selector, text); }
  async pressEnter(/** @type {string} */ selector) { await (await this.core()).pressEnter(selector); }
  async screenshot(/** @type {string} */ path) { await (await this.core()).screenshot(path); }
  async html() { return (await this.core()).html(); }
  async collect() {
    if (!this.closed) await (await this.core()).collect?.();
  }

  /** Closes the page; what it logged stays in `console` and `errors`. */
  async close() {
    if (this.closed) return;
    await this.collect();
    this.closed = true;
    await (await this.core()).close();
  }

  /**
   * Runs `fn` in the page with JSON `args` and resolves with its (awaited) JSON result.
   * @template T
   * @param {(...args: any[]) => T | Promise<T>} fn  self-contained: it sees only its arguments
   * @param {...unknown} args
   * @returns {Promise<T>}
   */
  async evaluate(fn, ...args) {
    const expression = `(${fn.toString()})(...${JSON.stringify(args)})`;
    return /** @type {T} */ (await (await this.core()).run(expression));
  }

  /**
   * Polls `fn` in the page until it returns a truthy value, which it resolves with; after
   * `timeoutMs` it fails with `what` (and the last value seen, when one was falsy but said
   * something).
   * @template T
   * @param {string} what  the expectation, in words, for the failure
   * @param {(...args: any[]) => T | Promise<T>} fn
   * @param {unknown[]} [args]
   * @param {number} [timeoutMs]
   * @returns {Promise<T>}
   */
  async waitFor(what, fn, args = [], timeoutMs = 15_000) {
    const deadline = Date.now() + timeoutMs;
    /** @type {unknown} */
    let last;
    for (;;) {
      try {
        const value = await this.evaluate(fn, ...args);
        if (value) return value;
        last = value;
      } catch (error) {
        // A navigation in flight destroys the context the script ran in: try again.
        last = error instanceof Error ? error.message.split('\n')[0] : String(error);
      }
      if (Date.now() > deadline) {
        const seen = last === undefined || last === null || last === false ? '' : ` (last: ${JSON.stringify(last)})`;
        throw new Error(`${what}: not within ${Math.round(timeoutMs / 1000)} s${seen}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/**
 * @typedef {object} E2EBrowser
 * @property {EngineName} engine
 * @property {string} version  the browser's own name and version
 * @property {(name: string) => E2EPage} newPage  a page in a context of its own
 * @property {() => Promise<void>} close
 */

/**
 * Starts `engine`. `nativeHls` (WebKit only) runs a WebKit whose Media Source Extensions
 * cannot decode H.264 while its own HLS playback can, as on a phone without MSE: the
 * player must fall back to `<video src>`.
 * @param {EngineName} engine
 * @param {{nativeHls?: boolean}} [options]
 * @returns {Promise<E2EBrowser>}
 */
export async function launchBrowser(engine, options = {}) {
  switch (engine) {
    case 'chromium':
      return (await import('./chromium-page.mjs')).launch();
    case 'firefox':
      return (await import('./firefox-page.mjs')).launch();
    case 'webkit':
      return (await import('./webkit-page.mjs')).launch(options);
    default:
      throw new Error(`unknown engine ${JSON.stringify(engine)}: one of ${ENGINES.join(', ')}`);
  }
}

