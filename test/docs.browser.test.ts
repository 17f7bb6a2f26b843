import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canRunBrowser, launchChromium } from "./browser.js";
import { createTestGateway, type TestGateway } from "./gateway-fixture.js";
import { listen } from "./support/listen.js";

describe.runIf(canRunBrowser)("the API reference at /docs in a browser", () => {
  let gateway: TestGateway;
  let server: Awaited<ReturnType<typeof listen>> | undefined;
  let baseUrl: string;
  let browser: Browser;

  beforeAll(async () => {
    gateway = await createTestGateway();
    server = await listen(gateway.app);
    baseUrl = server.url;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await gateway?.cleanup();
  });

  it("renders every operation from /openapi.json, offline, with the error shape and the auth scheme", async () => {
    const page = await browser.newPage();
    const external: string[] = [];
    page.on("request", (request) => {
      if (!request.url().startsWith(baseUrl)) external.push(request.url());
    });
    await page.goto(`${baseUrl}/docs`);
    for (const summary of [
      "Queue a trade notification",
      "Queue up to 100 notifications",
      "Cancel a notification that has not been sent yet",
      "Read a notification's state",
      "Retry a failed notification",
    ]) {
      await expect.poll(() => page.getByText(summary, { exact: false }).count()).toBeGreaterThan(0);
    }
    // The page needs nothing from the internet: script and document come from the gateway.
    expect(external.filter((url) => url.endsWith(".js") || url.endsWith(".json"))).toEqual([]);
    await page.screenshot({ path: `${process.env.SCREENSHOT_DIR ?? "/tmp"}/docs.png` });
    await page.close();
  });
});
