import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NOTIFICATION_TYPES } from "../contract/notification-job.js";
import { SHIPPED_CATALOGS } from "../worker/templates/shipped-catalogs.js";
import { canRunBrowser, launchChromium } from "./browser.js";
import { createTestQueue } from "./fixtures.js";
import { gatewayOver } from "./gateway-fixture.js";
import { listen } from "./support/listen.js";

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
});
