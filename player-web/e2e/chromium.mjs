// Debian's Chromium, headless, as every e2e script and the join benchmark launch it.
import { chromium } from "playwright-core";

// WebRTC on one machine: real host addresses in the candidates (mediad cannot resolve the
// mDNS names Chromium uses by default), no permission prompt, fake capture devices.
export const WEBRTC_FLAGS = ["--disable-features=WebRtcHideLocalIpsWithMdns",
  "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"];

/** `autoplayPolicy: false` leaves Chromium its own autoplay policy (muted video only, sound
 * after a gesture); the other scripts lift it, to time playback rather than the policy. */
export function launchChromium({ webrtc = false, autoplayPolicy = true } = {}) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    // The machine has no internet: keep Chromium from reaching for Google's services.
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      ...(autoplayPolicy ? ["--autoplay-policy=no-user-gesture-required"] : []), "--mute-audio",
      ...(webrtc ? WEBRTC_FLAGS : [])],
  });
}

/** A browser with one page of the desktop size the e2e scripts use, and the page's uncaught
 * errors as they come (a script ends by requiring none). */
export async function openPage({ webrtc = false, timeoutMs = 15_000 } = {}) {
  const browser = await launchChromium({ webrtc });
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  page.setDefaultTimeout(timeoutMs);
  /** @type {string[]} */
  const pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  return { browser, page, pageErrors };
}
