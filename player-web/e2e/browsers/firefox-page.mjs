// @ts-check
// Debian's Firefox ESR over WebDriver BiDi through puppeteer-core (it drives a stock Firefox,
// no downloaded build): a user context (its own cookies and storage) per page.
import puppeteer from 'puppeteer-core';
import { countCmcd, E2EPage } from './index.mjs';

/** @returns {Promise<import('./index.mjs').E2EBrowser>} */
export async function launch() {
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: process.env.FIREFOX || '/usr/bin/firefox-esr',
    headless: true,
    protocolTimeout: 60_000,
    // The window's own size: puppeteer's viewport emulation sends a BiDi command (screen
    // orientation) that Firefox ESR 140 does not know.
    defaultViewport: null,
    args: ['--window-size=1280,800'],
    // The machine has no internet: keep Firefox from reaching for Mozilla's services.
    extraPrefsFirefox: {
      'app.update.enabled': false,
      'browser.safebrowsing.malware.enabled': false,
      'browser.safebrowsing.phishing.enabled': false,
      'network.captive-portal-service.enabled': false,
      'network.connectivity-service.enabled': false,
    },
  });
  /** @type {import('puppeteer-core').Page | null} */
  let front = null;
  return {
    engine: 'firefox',
    version: await browser.version(),
    newPage: (name) => new E2EPage(name, async (owner) => {
      const context = await browser.createBrowserContext();
      const page = await context.newPage();
      front = page;
      // The pages are tabs of one window: a tab behind another is throttled, and input to it
      // waits seconds for a frame. The page a step acts on comes to the front first.
      const toFront = async () => {
        if (front === page) return;
        await page.bringToFront();
        front = page;
      };
      page.setDefaultTimeout(15_000);
      page.on('console', (message) => owner.console.push({ level: message.type(), text: message.text() }));
      page.on('request', (request) => countCmcd(owner, request.url(), request.headers()));
      page.on('pageerror', (error) => owner.errors.push(error instanceof Error ? error.message : String(error)));
      return {
        goto: async (url) => { await page.goto(url); },
        reload: async () => { await page.reload(); },
        url: async () => page.url(),
        run: (expression) => page.evaluate(expression),
        click: async (selector) => {
          await toFront();
          await page.click(selector);
        },
        fill: async (selector, text) => {
          await toFront();
          await page.$eval(selector, (element) => {
            /** @type {HTMLInputElement} */ (element).select();
          });
          await page.keyboard.press('Backspace');
          await page.type(selector, text);
        },
        pressEnter: async (selector) => {
          await toFront();
          await page.focus(selector);
          await page.keyboard.press('Enter');
        },
        screenshot: async (path) => {
          await toFront();
          await page.screenshot({ path: /** @type {`${string}.png`} */ (path) });
        },
        html: () => page.content(),
        close: () => context.close(),
      };
    }),
    close: () => browser.close(),
  };
}
