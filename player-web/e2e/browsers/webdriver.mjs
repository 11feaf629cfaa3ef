// @ts-check
// The few W3C WebDriver (classic, HTTP) commands the WebKit adapter sends to Debian's
// WebKitWebDriver: a session, navigation, script, element lookup, click, keys, screenshots.
// https://www.w3.org/TR/webdriver2/ — each command is one JSON request; an error answer
// carries {"value": {"error", "message"}}.

export const KEY_ENTER = '\uE007';

export class WebDriverError extends Error {
  constructor(/** @type {string} */ command, /** @type {string} */ code, /** @type {string} */ message) {
    super(`WebDriver ${command}: ${code}: ${message}`);
    this.name = 'WebDriverError';
    this.code = code;
  }
}

/** The key W3C WebDriver names an element reference by. */
const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

export class WebDriverSession {
  constructor(/** @type {string} */ endpoint, /** @type {string} */ id, /** @type {Record<string, unknown>} */ capabilities) {
    this.endpoint = endpoint;
    this.id = id;
    this.capabilities = capabilities;
  }

  /** Opens a session on the driver at `endpoint` with `capabilities` (alwaysMatch). */
  static async create(/** @type {string} */ endpoint, /** @type {Record<string, unknown>} */ capabilities) {
    const value = await send(endpoint, 'POST', '/session', { capabilities: { alwaysMatch: capabilities } });
    return new WebDriverSession(endpoint, value.sessionId, value.capabilities);
  }

  /** One command of this session: `path` is relative to /session/{id}. */
  command(/** @type {string} */ method, /** @type {string} */ path, /** @type {unknown} */ body) {
    return send(this.endpoint, method, `/session/${this.id}${path}`, body);
  }

  navigate(/** @type {string} */ url) { return this.command('POST', '/url', { url }); }
  refresh() { return this.command('POST', '/refresh', {}); }
  async currentUrl() { return String(await this.command('GET', '/url')); }
  setTimeouts(/** @type {{script?: number, pageLoad?: number, implicit?: number}} */ timeouts) {
    return this.command('POST', '/timeouts', timeouts);
  }

  /** Runs `script` (a function body: its arguments are `arguments`) and resolves with what
   * it returned, a promise it returned awaited. */
  executeAsync(/** @type {string} */ script, /** @type {unknown[]} */ args) {
    return this.command('POST', '/execute/async', { script, args });
  }

  async findElement(/** @type {string} */ selector) {
    const value = await this.command('POST', '/element', { using: 'css selector', value: selector });
    return String(value[ELEMENT]);
  }

  async click(/** @type {string} */ selector) {
    await this.command('POST', `/element/${await this.findElement(selector)}/click`, {});
  }

  /** Clears an input and types `text` into it, as keystrokes. */
  async fill(/** @type {string} */ selector, /** @type {string} */ text) {
    const element = await this.findElement(selector);
    await this.command('POST', `/element/${element}/clear`, {});
    await this.command('POST', `/element/${element}/value`, { text });
  }

  async sendKeys(/** @type {string} */ selector, /** @type {string} */ text) {
    await this.command('POST', `/element/${await this.findElement(selector)}/value`, { text });
  }

  /** The viewport as PNG bytes. */
  async screenshot() { return Buffer.from(String(await this.command('GET', '/screenshot')), 'base64'); }
  async pageSource() { return String(await this.command('GET', '/source')); }
  setWindowRect(/** @type {{width: number, height: number}} */ rect) { return this.command('POST', '/window/rect', rect); }
  async delete() { await this.command('DELETE', ''); }
}

async function send(/** @type {string} */ endpoint, /** @type {string} */ method, /** @type {string} */ path, /** @type {unknown} */ body) {
  const response = await fetch(endpoint + path, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json; charset=utf-8' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  /** @type {any} */
  let reply;
  try {
    reply = JSON.parse(text);
  } catch {
    throw new WebDriverError(`${method} ${path}`, `HTTP ${response.status}`, text.slice(0, 200));
  }
  const value = reply?.value;
  if (!response.ok || (value && typeof value === 'object' && typeof value.error === 'string')) {
    throw new WebDriverError(`${method} ${path}`, value?.error ?? `HTTP ${response.status}`, value?.message ?? text.slice(0, 200));
  }
  return value;
}
