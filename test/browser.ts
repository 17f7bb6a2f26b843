import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

/** Debian's Chromium (`apt-get install -y chromium`); .ci/run installs it. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Browser tests run wherever Chromium is installed, and must run in CI. */
export const canRunBrowser = existsSync(CHROMIUM_PATH) || process.env.CI !== undefined;

/** Headless Chromium with the flags this sandboxed, offline machine needs. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      // Without these Chromium keeps calling home, which this machine's network refuses.
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
