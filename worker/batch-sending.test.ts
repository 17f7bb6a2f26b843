/**
 * Emails in batches (Resend's batch endpoint) through the real `resend` SDK against a fake that
 * enforces a strict 2 requests/s and answers the batch endpoint as Resend documents.
 */
import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { createResendEmailAdapter } from "../channels/resend-email.js";
import type { DeliveryReport } from "../contract/delivery-report.js";
import { notificationJobOptions, TRADE_EXECUTED_JOB } from "../contract/notification-job.js";
import type { ScriptedResponse } from "../test/fakes/http.js";
import { resendError, startFakeResend } from "../test/fakes/resend.js";
import { eventually } from "../test/fixtures.js";
import { VALID_NOTIFICATION } from "../test/gateway-fixture.js";
import {
  addPausedEmails,
  startWorkerHarness,
  TEST_EMAIL_FROM,
  type WorkerHarness,
  waitForFinished,
} from "../test/worker-fixture.js";

let harness: WorkerHarness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

const { phone: _phone, ...EMAIL_ONLY } = VALID_NOTIFICATION;

/** A harness whose worker runs the default 200 jobs at once, batching emails at Resend's 2/s. */
function batchingHarness(extra: Parameters<typeof startWorkerHarness>[0] = {}) {
  return startWorkerHarness({
    concurrency: 200,
    emailPerSecond: 2,
    resend: { requestsPerSecond: 2 },
    emailBatch: { maxSize: 100 },
    ...extra,
  });
}

/** Adds one email while the worker runs and waits until its job finished; its id and when. */
async function sendLoneEmail(h: WorkerHarness, to = EMAIL_ONLY.to) {
  const id = randomUUID();
  const added = Date.now();
  await h.queue.add(
    TRADE_EXECUTED_JOB,
    { ...EMAIL_ONLY, to },
    { ...notificationJobOptions({ attempts: 4, backoffDelayMs: 20 }), jobId: id },
  );
  const job = await waitForFinished(h.queue, id);
  expect(await job.getState()).toBe("completed");
  return { id, added };
}

/** Every job completed, and each one's email id is the one Resend gave its own recipient. */
async function expectEachDeliveredOnce(h: WorkerHarness, toById: Map<string, string>) {
  const jobs = new Map<string, Awaited<ReturnType<typeof waitForFinished>>>();
  for (const id of toById.keys()) jobs.set(id, await waitForFinished(h.queue, id, 30_000));
  const idByRecipient = new Map(h.resend.emails.map((email) => [email.to, email.id]));
  expect(h.resend.emails).toHaveLength(toById.size);
  expect(idByRecipient.size).toBe(toById.size);
  for (const [id, to] of toById) {
    const job = jobs.get(id);
    if (!job) throw new Error(`job ${id} missing`);
    expect(await job.getState()).toBe("completed");
    expect((job.returnvalue as DeliveryReport).email.providerId).toBe(idByRecipient.get(to));
  }
}

describe("batch sending", () => {
  it("drains 250 waiting emails in a handful of batch requests, each email once, under a strict 2 requests/s", async () => {
    harness = await batchingHarness();
    const toById = await addPausedEmails(harness, 250);
    await expectEachDeliveredOnce(harness, toById);
    const calls = harness.resend.calls;
    expect(calls.filter((call) => call.status === 429)).toHaveLength(0);
    // One email a request would take 125 s at 2/s; batches collect while they wait for their
    // slot, so 250 emails take 3 full requests, plus a small first one at most.
    expect(calls.length).toBeLessThanOrEqual(5);
    expect(calls.every((call) => call.endpoint === "/emails/batch")).toBe(true);
    expect(calls.reduce((sum, call) => sum + (call.batchSize ?? 0), 0)).toBe(250);
  });

  // A batch's composition stays in Redis for a day (as long as Resend keeps its key). Kept as
  // JSON it was every email's rendered HTML again, about 12 KB an email: 1.2 GB for a burst of
  // 100,000 emails, more than the service's every other key together.
  it("keeps each batch's composition in Redis compressed: a tenth of the emails' rendered size at most", async () => {
    harness = await batchingHarness();
    const toById = await addPausedEmails(harness, 250);
    await expectEachDeliveredOnce(harness, toById);
    const records = await harness.connection.keys(`${harness.prefix}:*:batch:*`);
    const batchCalls = harness.resend.calls.filter((call) => call.endpoint === "/emails/batch");
    expect(records).toHaveLength(batchCalls.length);
    let stored = 0;
    for (const key of records) stored += await harness.connection.strlen(key);
    const rendered = harness.resend.emails.reduce(
      (sum, email) => sum + Buffer.byteLength(email.html) + Buffer.byteLength(email.text),
      0,
    );
    expect(rendered).toBeGreaterThan(250 * 1000);
    expect(stored).toBeLessThan(rendered / 10);
  });

  it("sends a lone email at once, in a batch of one", async () => {
    harness = await batchingHarness();
    const { id, added } = await sendLoneEmail(harness);
    const [call] = harness.resend.calls;
    expect(harness.resend.calls.map((c) => [c.endpoint, c.batchSize])).toEqual([
      ["/emails/batch", 1],
    ]);
    expect((call?.at ?? Number.POSITIVE_INFINITY) - added).toBeLessThan(500);
    const job = await waitForFinished(harness.queue, id);
    expect((job.returnvalue as DeliveryReport).email.providerId).toBe(harness.resend.emails[0]?.id);
  });

  it("never lets more than the limit into any second when lone emails follow each other", async () => {
    harness = await startWorkerHarness({
      emailPerSecond: 20,
      resend: { requestsPerSecond: 20 },
      emailBatch: { maxSize: 100 },
    });
    for (let index = 0; index < 30; index++) {
      await sendLoneEmail(harness, `lone${index}@example.com`);
    }
    const arrivals = harness.resend.calls.map((call) => call.at);
    expect(arrivals).toHaveLength(30);
    expect(harness.resend.calls.filter((call) => call.status === 429)).toHaveLength(0);
    for (const at of arrivals) {
      expect(
        arrivals.filter((other) => other >= at && other < at + 1000).length,
      ).toBeLessThanOrEqual(20);
    }
  });

  it("re-sends the same batch under the same key after an answer lost to a timeout: no email twice", async () => {
    harness = await batchingHarness({ timeoutMs: 300 });
    // The batch is accepted, then answered after the worker gave up on it.
    harness.resend.script.failNext({ status: 200, body: {}, deliver: true, delayMs: 800 });
    const toById = await addPausedEmails(harness, 30);
    await expectEachDeliveredOnce(harness, toById);
    const [lost, ...later] = harness.resend.calls;
    expect(lost?.idempotencyKey).toMatch(/^batch\//);
    // The batch whose answer was lost went again under its key: Resend answered it from its
    // record, without sending again (each email once, above).
    expect(later.some((call) => call.idempotencyKey === lost?.idempotencyKey)).toBe(true);
  });

  it.each<[string, ScriptedResponse]>([
    ["accepted, then answered 500", resendError("internal_server_error", { deliver: true })],
    [
      "accepted, then answered after our timeout",
      { status: 200, body: {}, deliver: true, delayMs: 800 },
    ],
  ])(
    "re-sends a lone email's batch under its key when its retry meets a collecting batch (%s): no email twice",
    async (_, failure) => {
      harness = await batchingHarness({ timeoutMs: 300 });
      const h = harness;
      h.resend.script.failNext(failure);
      const loneId = randomUUID();
      await h.queue.add(
        TRADE_EXECUTED_JOB,
        { ...EMAIL_ONLY, to: "lone@example.com" },
        { ...notificationJobOptions({ attempts: 4, backoffDelayMs: 500 }), jobId: loneId },
      );
      await eventually(
        async () => {
          if ((await h.queue.getJob(loneId))?.attemptsMade !== 1) throw new Error("not failed yet");
        },
        { timeout: 5000, interval: 20 },
      );
      expect(h.resend.emails.map((email) => email.to)).toEqual(["lone@example.com"]);
      const loneKey = h.resend.calls[0]?.idempotencyKey;
      // Others wait while its backoff (and a late answer) runs out; the worker takes them together.
      const toById = await addPausedEmails(h, 5, {
        whilePaused: () => new Promise((resolve) => setTimeout(resolve, 1200)),
      });
      toById.set(loneId, "lone@example.com");
      await expectEachDeliveredOnce(h, toById);
      const loneCalls = h.resend.calls.filter((call) => call.idempotencyKey === loneKey);
      expect(loneCalls.length).toBeGreaterThanOrEqual(2);
      expect(loneCalls.every((call) => call.batchSize === 1)).toBe(true);
    },
  );
});

describe("the Resend adapter's batch mapping", () => {
  it("fails only the invalid address of a permissive batch and maps every other id to its email", async () => {
    const resend = await startFakeResend();
    try {
      const adapter = createResendEmailAdapter({
        apiKey: resend.apiKey,
        from: TEST_EMAIL_FROM,
        baseUrl: resend.url,
        timeoutMs: 5000,
      });
      const content = { subject: "s", html: "<p>h</p>", text: "t", sms: "" };
      const results = await adapter.sendBatch?.(
        [
          { recipient: "a@example.com", content },
          { recipient: "not-an-address", content },
          { recipient: "c@example.com", content },
        ],
        randomUUID(),
      );
      expect(results?.[1]).toMatchObject({ kind: "permanent", code: "validation_error" });
      const idOf = (to: string) => resend.emails.find((email) => email.to === to)?.id;
      expect(results?.[0]).toEqual({ providerId: idOf("a@example.com") });
      expect(results?.[2]).toEqual({ providerId: idOf("c@example.com") });
      expect(resend.emails).toHaveLength(2);
    } finally {
      await resend.close();
    }
  });
});
