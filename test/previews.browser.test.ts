import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NOTIFICATION_TYPES } from "../contract/notification-job.js";
import { SHIPPED_CATALOGS } from "../rendering/shipped-catalogs.js";
import { canRunBrowser, launchChromium } from "./browser.js";
import { createTestQueue } from "./fixtures.js";
import { gatewayOver } from "./gateway-fixture.js";
import { listen } from "./support/listen.js";

/**
 * The lowest WCAG contrast ratio between any text in the page and the background it is drawn on
 * (the nearest ancestor's opaque background colour), as a string run in the page.
 */
const LOWEST_TEXT_CONTRAST = `(() => {
  const rgb = (value) => (value.match(/[\\d.]+/g) || []).map(Number);
  const luminance = ([r, g, b]) => {
    const channel = (c) => { c /= 255; return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  };
  const background = (element) => {
    for (let node = element; node; node = node.parentElement) {
      const color = rgb(getComputedStyle(node).backgroundColor);
      if (color.length === 3 || (color.length === 4 && color[3] > 0)) return color.slice(0, 3);
    }
    return [255, 255, 255];
  };
  let lowest = { ratio: 21, text: "" };
  for (const element of document.body.querySelectorAll("*")) {
    const hasText = [...element.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    // Hidden text (the preheader an inbox shows beside the subject) is not drawn.
    if (!hasText || !element.checkVisibility({ opacityProperty: true, visibilityProperty: true })) continue;
    const a = luminance(rgb(getComputedStyle(element).color));
    const b = luminance(background(element));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < lowest.ratio) lowest = { ratio, text: element.textContent.trim().slice(0, 40) };
  }
  return lowest;
})()`;

const ADMIN = { username: "ops", password: "correct horse battery staple" };
const WIDTHS = [375, 800] as const;
/** PNG files start with these eight bytes. */
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe.runIf(canRunBrowser)("message previews in a browser", () => {
  let fixture: Awaited<ReturnType<typeof createTestQueue>>;
  let server: Awaited<ReturnType<typeof listen>> | undefined;
  let browser: Browser;

  beforeAll(async () => {
    fixture = await createTestQueue();
    const { app } = gatewayOver(fixture, {
      admin: { user: ADMIN.username, password: ADMIN.password },
    });
    server = await listen(app);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await fixture?.cleanup();
  });

  const emails = Object.keys(SHIPPED_CATALOGS).flatMap((locale) =>
    NOTIFICATION_TYPES.map((type) => [type, locale] as const),
  );

  it.each(emails)(
    "shows %s in %s without horizontal overflow at 375 and 800 px, in a screenshot",
    async (type, locale) => {
      const context = await browser.newContext({ httpCredentials: ADMIN });
      try {
        const page = await context.newPage();
        for (const width of WIDTHS) {
          await page.setViewportSize({ width, height: 900 });
          const response = await page.goto(`${server?.url}/admin/previews/${type}/${locale}`);
          expect(response?.status()).toBe(200);
          // A string, run in the page: the tests are compiled without the DOM's types.
          const { scrollWidth, viewport } = (await page.evaluate(
            "({ scrollWidth: document.documentElement.scrollWidth, viewport: window.innerWidth })",
          )) as { scrollWidth: number; viewport: number };
          expect(scrollWidth, `${width} px`).toBeLessThanOrEqual(viewport);
          expect(viewport).toBe(width);
          const shot = await page.screenshot({ fullPage: true });
          expect(shot.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
        }
      } finally {
        await context.close();
      }
    },
  );

  it.each([
    ["light", "trade.executed"],
    ["dark", "trade.executed"],
    ["light", "withdrawal.sent"],
    ["dark", "withdrawal.sent"],
  ] as const)(
    "keeps every text readable in %s mode (%s): contrast at least 4.5",
    async (colorScheme, type) => {
      const context = await browser.newContext({ httpCredentials: ADMIN, colorScheme });
      try {
        const page = await context.newPage();
        await page.goto(`${server?.url}/admin/previews/${type}/en`);
        const lowest = (await page.evaluate(LOWEST_TEXT_CONTRAST)) as {
          ratio: number;
          text: string;
        };
        expect(lowest.ratio, lowest.text).toBeGreaterThanOrEqual(4.5);
      } finally {
        await context.close();
      }
    },
  );
});
