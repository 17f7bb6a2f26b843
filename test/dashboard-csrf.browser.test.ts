import { Hono } from "hono";
import type { Browser, Page, Request as PageRequest } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TRADE_EXECUTED_JOB } from "../contract/notification-job.js";
import { canRunBrowser, launchChromium } from "./browser.js";
import { gatewayOver, VALID_NOTIFICATION } from "./gateway-fixture.js";
import { listen } from "./support/listen.js";
import { startWorkerHarness, type WorkerHarness } from "./worker-fixture.js";

const ADMIN = { username: "ops", password: "correct horse battery staple" };

/** What an attacker wants the worker to send: a notification to an address of their choosing. */
const FORGED_JOB = {
  name: TRADE_EXECUTED_JOB,
  data: { ...VALID_NOTIFICATION, to: "victim@attacker.example", phone: "+12025550199" },
};

function escapeAttribute(value: string): string {
  return value
    .replaceAll("&", "&amp;")
    .replaceAll('"', "&quot;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;");
}

/**
 * The attacker's page: a no-cors fetch carrying JSON as text/plain, then an auto-submitted
 * text/plain form whose `name=value` body is JSON too (the "=" lands inside a padding string).
 * Both are "simple" requests: a browser sends them cross-site with no preflight, and with the
 * operator's cached Basic credentials.
 */
function attackerPage(target: string): string {
  const json = JSON.stringify(FORGED_JOB);
  const fieldName = `${json.slice(0, -1)},"pad":"`;
  return `<!doctype html>
<html><body>
<form method="POST" enctype="text/plain" action="${escapeAttribute(target)}">
  <input type="hidden" name="${escapeAttribute(fieldName)}" value="&quot;}">
</form>
<script>
  fetch(${JSON.stringify(target)}, {
    method: "POST",
    mode: "no-cors",
    credentials: "include",
    body: ${JSON.stringify(json)},
  })
    .catch(() => {})
    .finally(() => document.forms[0].submit());
</script>
</body></html>`;
}

/** Resolves with the first request to `url` of `resourceType` once it finished or failed. */
function settledRequest(page: Page, url: string, resourceType: string): Promise<PageRequest> {
  return new Promise((resolve) => {
    const settle = (request: PageRequest) => {
      if (request.url() === url && request.resourceType() === resourceType) resolve(request);
    };
    page.on("requestfinished", settle);
    page.on("requestfailed", settle);
  });
}

describe.runIf(canRunBrowser)("the queue dashboard against cross-site request forgery", () => {
  let harness: WorkerHarness;
  let gateway: Awaited<ReturnType<typeof listen>> | undefined;
  let attacker: Awaited<ReturnType<typeof listen>> | undefined;
  let gatewayUrl: string;
  let attackerUrl: string;
  let addJobUrl: string;
  let browser: Browser;
  const addJobAnswers: {
    origin: string | null;
    contentType: string | null;
    authenticated: boolean;
    status: number;
  }[] = [];

  let jobCount: () => Promise<number>;

  beforeAll(async () => {
    harness = await startWorkerHarness();
    const test = gatewayOver(harness, {
      admin: { user: ADMIN.username, password: ADMIN.password },
    });
    const app = test.app;
    jobCount = test.jobCount;
    // What the gateway answered each add-job request, seen from the server: a cross-site response
    // the browser refuses to hand to the page (CORP) still tells here whether the job was added.
    gateway = await listen({
      fetch: async (request: Request) => {
        const response = await app.fetch(request);
        if (new URL(request.url).pathname.endsWith("/add")) {
          addJobAnswers.push({
            origin: request.headers.get("origin"),
            contentType: request.headers.get("content-type"),
            authenticated: request.headers.get("authorization")?.startsWith("Basic ") ?? false,
            status: response.status,
          });
        }
        return response;
      },
    });
    gatewayUrl = gateway.url; // http://127.0.0.1:<port>
    addJobUrl = `${gatewayUrl}/admin/queues/api/queues/notifications/add`;

    // Another site: localhost and 127.0.0.1 are different origins (and different sites).
    const evil = new Hono().get("/", (c) => c.html(attackerPage(addJobUrl)));
    attacker = await listen(evil);
    attackerUrl = attacker.url.replace("127.0.0.1", "localhost");
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await attacker?.close();
    await gateway?.close();
    await harness?.stop();
  });

  it("queues nothing when a logged-in operator opens a page on another site", async () => {
    const context = await browser.newContext({ httpCredentials: ADMIN });
    const page = await context.newPage();
    // The operator is logged in: the browser caches the dashboard's Basic credentials.
    const dashboard = await page.goto(`${gatewayUrl}/admin/queues`);
    expect(dashboard?.status()).toBe(200);
    const before = await jobCount();
    addJobAnswers.length = 0;

    const forgedFetch = settledRequest(page, addJobUrl, "fetch");
    const forgedForm = settledRequest(page, addJobUrl, "document");
    await page.goto(attackerUrl);
    const [, submitted] = await Promise.all([forgedFetch, forgedForm]);

    // Both forged requests reached the gateway. The form's navigation carries the cached
    // credentials (the attack that worked before the guard) and is refused; Chromium's auth cache,
    // partitioned by top-level site, leaves them off the fetch, which is then merely a 401 — but
    // in a browser that sent them, the fetch too would be refused.
    expect(addJobAnswers.map(({ origin, contentType }) => ({ origin, contentType }))).toEqual([
      { origin: attackerUrl, contentType: "text/plain;charset=UTF-8" },
      { origin: attackerUrl, contentType: "text/plain" },
    ]);
    const [fetchAnswer, formAnswer] = addJobAnswers;
    expect(formAnswer).toMatchObject({ authenticated: true, status: 403 });
    expect(fetchAnswer?.status).toBe(fetchAnswer?.authenticated ? 403 : 401);
    const refusal = await (await submitted.response())?.json();
    expect(refusal).toMatchObject({ error: { code: "FORBIDDEN" } });

    expect(await jobCount()).toBe(before);
    expect(harness.resend.calls).toHaveLength(0);
    expect(harness.twilio.calls).toHaveLength(0);
    await context.close();
  });

  it("offers no way to add a job even from the dashboard's own page", async () => {
    const context = await browser.newContext({ httpCredentials: ADMIN });
    const page = await context.newPage();
    await page.goto(`${gatewayUrl}/admin/queues`);
    const before = await jobCount();
    // A same-origin JSON request, as Bull Board's own UI would send it.
    const answer = await page.evaluate(
      async ({ url, job }) => {
        const response = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(job),
        });
        return { status: response.status, body: await response.text() };
      },
      { url: addJobUrl, job: FORGED_JOB },
    );
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: "FORBIDDEN" } });
    expect(await jobCount()).toBe(before);
    await context.close();
  });
});
