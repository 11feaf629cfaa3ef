// @ts-check
// Debian's WebKitGTK (its MiniBrowser, standing in for Safari's engine) through Debian's
// WebKitWebDriver, over classic WebDriver. A page is a session of its own, with a driver of
// its own (one session per driver), so each has its own cookies and storage. MiniBrowser is a
// GTK window: without a DISPLAY it gets an Xvfb virtual display, started here.
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { E2EPage } from './index.mjs';
import { KEY_ENTER, WebDriverSession } from './webdriver.mjs';

const MINIBROWSER = process.env.MINIBROWSER || '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';

/** @type {Set<import('node:child_process').ChildProcess>} */
const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** Starts Xvfb on a free display and resolves with its name (":N"). */
function startDisplay() {
  return new Promise((resolve, reject) => {
    // -displayfd: Xvfb picks a free display and writes its number once it accepts clients.
    const xvfb = spawn('Xvfb', ['-displayfd', '1', '-screen', '0', '1400x1000x24', '-nolisten', 'tcp'],
      { stdio: ['ignore', 'pipe', 'ignore'] });
    children.add(xvfb);
    let out = '';
    xvfb.stdout.on('data', (chunk) => {
      out += chunk;
      if (out.includes('\n')) resolve(`:${out.trim()}`);
    });
    xvfb.on('error', reject);
    xvfb.on('exit', (code) => reject(new Error(`Xvfb exited (${code}) before it gave a display`)));
  });
}

/** A TCP port nobody listens on now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Starts WebKitWebDriver and resolves with its endpoint once it answers /status. */
async function startDriver(/** @type {NodeJS.ProcessEnv} */ env) {
  const port = await freePort();
  const driver = spawn(process.env.WEBKIT_WEBDRIVER || 'WebKitWebDriver', [`--port=${port}`],
    { stdio: ['ignore', 'ignore', 'pipe'], env });
  children.add(driver);
  let stderr = '';
  driver.stderr.on('data', (chunk) => { stderr = (stderr + chunk).slice(-2000); });
  const endpoint = `http://127.0.0.1:${port}`;
  for (let tries = 0; ; tries += 1) {
    if (driver.exitCode !== null) throw new Error(`WebKitWebDriver exited (${driver.exitCode}): ${stderr}`);
    try {
      await fetch(`${endpoint}/status`);
      return { driver, endpoint };
    } catch {
      if (tries > 100) throw new Error(`WebKitWebDriver did not answer on ${endpoint} within 10 s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

// WebKitWebDriver reports no console messages: the page records its own, from the moment
// each navigation is done (what a page logs while it loads is not seen).
const CONSOLE_HOOK = `(() => {
  if (window.__e2eLog) return;
  const log = window.__e2eLog = { console: [], errors: [] };
  for (const level of ['error', 'warn']) {
    const original = console[level];
    console[level] = (...parts) => {
      log.console.push({ level, text: parts.map(String).join(' ') });
      original.apply(console, parts);
    };
  }
  addEventListener('error', (event) => log.errors.push(event.message));
  addEventListener('unhandledrejection', (event) => log.errors.push(String(event.reason?.message ?? event.reason)));
})()`;
const CONSOLE_TAKE = `(() => {
  const log = window.__e2eLog;
  return log ? { console: log.console.splice(0), errors: log.errors.splice(0) } : { console: [], errors: [] };
})()`;

/** @returns {Promise<import('./index.mjs').E2EBrowser>} */
export async function launch(/** @type {{nativeHls?: boolean}} */ { nativeHls = false } = {}) {
  const display = process.env.DISPLAY || await startDisplay();
  // WebKitGTK plays HLS in <video src> through GStreamer only when asked to.
  const env = { ...process.env, DISPLAY: display, WEBKIT_GST_ENABLE_HLS_SUPPORT: '1' };
  const args = ['--automation'];
  // MSE refuses H.264 (as though it needed a hardware decoder there is not), <video src> plays it.
  if (nativeHls) args.push('--media-content-types-requiring-hardware-support=video/mp4; codecs="avc*"');
  /** @type {Set<() => Promise<void>>} */
  const open = new Set();
  /** @type {string} */
  let version = 'WebKitGTK';

  return {
    engine: 'webkit',
    get version() { return version; },
    newPage: (name) => new E2EPage(name, async (owner) => {
      const { driver, endpoint } = await startDriver(env);
      const session = await WebDriverSession.create(endpoint, {
        'webkitgtk:browserOptions': { binary: MINIBROWSER, args },
      });
      version = `WebKitGTK ${session.capabilities.browserVersion}`;
      await session.setTimeouts({ script: 60_000, pageLoad: 30_000 });
      await session.setWindowRect({ width: 1280, height: 800 });
      /** Runs `expression` in the page and resolves with its awaited value. */
      const run = async (/** @type {string} */ expression) => {
        const script = 'const done = arguments[arguments.length - 1];\n'
          + `Promise.resolve().then(() => (${expression})).then(`
          + '(value) => done({ result: value === undefined ? null : value }),'
          + '(error) => done({ thrown: String(error && error.message || error) }));';
        // Not {error}: a WebDriver answer's value with "error" in it means the command failed.
        const reply = /** @type {{result?: unknown, thrown?: string}} */ (await session.executeAsync(script, []));
        if (reply.thrown !== undefined) throw new Error(reply.thrown);
        return reply.result;
      };
      const collect = async () => {
        const taken = /** @type {{console: import('./index.mjs').ConsoleEntry[], errors: string[]}} */ (
          await run(CONSOLE_TAKE).catch(() => ({ console: [], errors: [] })));
        owner.console.push(...taken.console);
        owner.errors.push(...taken.errors);
      };
      const navigated = async () => { await run(CONSOLE_HOOK); };
      const close = async () => {
        open.delete(close);
        await session.delete().catch(() => undefined);
        driver.kill();
        children.delete(driver);
      };
      open.add(close);
      return {
        goto: async (url) => {
          await collect();
          await session.navigate(url);
          await navigated();
        },
        reload: async () => {
          await collect();
          await session.refresh();
          await navigated();
        },
        url: () => session.currentUrl(),
        run,
        click: (selector) => session.click(selector),
        fill: (selector, text) => session.fill(selector, text),
        pressEnter: (selector) => session.sendKeys(selector, KEY_ENTER),
        screenshot: async (path) => { await writeFile(path, await session.screenshot()); },
        html: () => session.pageSource(),
        collect,
        close,
      };
    }),
    close: async () => {
      await Promise.all([...open].map((close) => close()));
      for (const child of children) child.kill();
      children.clear();
    },
  };
}
