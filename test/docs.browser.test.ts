import { type ServerType, serve } from "@hono/node-server";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canRunBrowser, launchChromium } from "./browser.js";
import { createTestGateway, type TestGateway } from "./gateway-fixture.js";

describe.runIf(canRunBrowser)("the API reference at /docs in a browser", () => {
  let gateway: TestGateway;
  let server: ServerType;
  let baseUrl: string;
  let browser: Browser;

  beforeAll(async () => {
    gateway = await createTestGateway();
    const port = await new Promise<number>((resolve) => {
      server = serve({ fetch: gateway.app.fetch, port: 0, hostname: "127.0.0.1" }, (info) =>
        resolve(info.port),
      );
    });
    baseUrl = `http://127.0.0.1:${port}`;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    server?.close();
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
