// @ts-check
// Chromium (Debian's /usr/bin/chromium) through playwright-core: a browser context per page.
import { launchChromium } from '../chromium.mjs';
import { countCmcd, E2EPage } from './index.mjs';

/** @returns {Promise<import('./index.mjs').E2EBrowser>} */
export async function launch() {
  // The browser's own autoplay policy: no --autoplay-policy flag, unlike the other scripts.
  const browser = await launchChromium({ autoplayPolicy: false });
  return {
    engine: 'chromium',
    version: `Chromium ${browser.version()}`,
    newPage: (name) => new E2EPage(name, async (owner) => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      page.setDefaultTimeout(15_000);
      // A failed load's message names no URL; its location is the resource.
      page.on('console', (message) => {
        const text = message.text();
        const failedLoad = text.startsWith('Failed to load resource') && message.location().url;
        owner.console.push({ level: message.type(), text: failedLoad ? `${text}: ${failedLoad}` : text });
      });
      page.on('request', (request) => countCmcd(owner, request.url(), request.headers()));
      page.on('pageerror', (error) => owner.errors.push(error.message));
      return {
        goto: async (url) => { await page.goto(url); },
        reload: async () => { await page.reload(); },
        url: async () => page.url(),
        run: (expression) => page.evaluate(expression),
        click: (selector) => page.click(selector),
        fill: (selector, text) => page.fill(selector, text),
        pressEnter: (selector) => page.press(selector, 'Enter'),
        screenshot: async (path) => { await page.screenshot({ path }); },
        html: () => page.content(),
        close: () => context.close(),
      };
    }),
    close: () => browser.close(),
  };
}
