import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TRADE_EXECUTED_JOB } from "../contract/notification-job.js";
import { canRunBrowser, launchChromium } from "./browser.js";
import { twilioError } from "./fakes/twilio.js";
import { eventually } from "./fixtures.js";
import { gatewayOver, TEST_API_KEY, VALID_NOTIFICATION } from "./gateway-fixture.js";
import { listen } from "./support/listen.js";
import { startWorkerHarness, type WorkerHarness, waitForFinished } from "./worker-fixture.js";

const ADMIN = { username: "ops", password: "correct horse battery staple" };

describe.runIf(canRunBrowser)("the queue dashboard in a browser", () => {
  let harness: WorkerHarness;
  let server: Awaited<ReturnType<typeof listen>> | undefined;
  let baseUrl: string;
  let browser: Browser;
  let failedId: string;

  beforeAll(async () => {
    harness = await startWorkerHarness();
    const { app } = gatewayOver(harness, {
      admin: { user: ADMIN.username, password: ADMIN.password },
    });
    server = await listen(app);
    baseUrl = server.url;
    // One notification whose SMS fails for good; its email goes out.
    harness.twilio.script.failNext(twilioError(400, 21211, "Invalid 'To' Phone Number"));
    failedId = crypto.randomUUID();
    await harness.queue.add(TRADE_EXECUTED_JOB, VALID_NOTIFICATION, {
      jobId: failedId,
      attempts: 4,
    });
    await waitForFinished(harness.queue, failedId);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await harness?.stop();
  });

  it("asks for the admin login, and refuses a sending API key", async () => {
    const anonymous = await fetch(`${baseUrl}/admin/queues`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toBe('Basic realm="notifications-admin"');
    const withApiKey = await fetch(`${baseUrl}/admin/queues`, {
      headers: { authorization: `Bearer ${TEST_API_KEY}` },
    });
    expect(withApiKey.status).toBe(401);
    const wrong = await fetch(`${baseUrl}/admin/queues`, {
      headers: {
        authorization: `Basic ${Buffer.from(`${ADMIN.username}:nope`).toString("base64")}`,
      },
    });
    expect(wrong.status).toBe(401);

    // A browser without the login is challenged and gets nothing (headless, it cannot prompt).
    const context = await browser.newContext();
    const page = await context.newPage();
    await expect(page.goto(`${baseUrl}/admin/queues`)).rejects.toThrow(
      /ERR_INVALID_AUTH_CREDENTIALS/,
    );
    await context.close();
  });

  it("logs in, shows the failed notification's error and retries it from the page", async () => {
    const context = await browser.newContext({ httpCredentials: ADMIN });
    const page = await context.newPage();
    await page.goto(`${baseUrl}/admin/queues`);
    // The overview lists the queue; open it, then its failed jobs.
    await page.getByRole("link", { name: "notifications", exact: true }).first().click();
    await page.waitForURL(/\/admin\/queues\/queue\/notifications/);
    await page
      .getByRole("link", { name: /failed/i })
      .first()
      .click();
    await page.waitForURL(/status=failed/);

    const card = page.locator("[class*=card]").filter({ hasText: failedId }).first();
    await expect.poll(() => card.textContent()).toContain("sms 21211: Invalid 'To' Phone Number");

    // The card's first action is Retry; Bull Board asks for confirmation.
    await card.locator("button").first().click();
    await page.getByRole("button", { name: "Confirm" }).click();

    // One read of the job: its state and return value must come from the same moment.
    await eventually(async () => {
      const current = await harness.queue.getJob(failedId);
      expect(current?.finishedOn).toBeGreaterThan(0);
      expect(current?.returnvalue).toMatchObject({
        email: { status: "sent" },
        sms: { status: "sent" },
      });
    });
    // Only the SMS was sent again: one email in all, two SMS attempts, one SMS delivered.
    expect(harness.resend.emails).toHaveLength(1);
    expect(harness.resend.calls).toHaveLength(1);
    expect(harness.twilio.calls).toHaveLength(2);
    expect(harness.twilio.messages).toHaveLength(1);
    await context.close();
  });
});
