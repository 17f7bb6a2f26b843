import { afterEach, describe, expect, it } from "vitest";
import type { DeliveryReport } from "../contract/delivery-report.js";
import { TRADE_EXECUTED_JOB } from "../contract/notification-job.js";
import { createSuppressionList } from "../delivery/suppressions.js";
import { resendError } from "../test/fakes/resend.js";
import { eventually } from "../test/fixtures.js";
import { VALID_NOTIFICATION } from "../test/gateway-fixture.js";
import {
  addPausedEmails,
  startWorkerHarness,
  type WorkerHarness,
  waitForFinished,
} from "../test/worker-fixture.js";

let harness: WorkerHarness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

const { phone: _phone, ...EMAIL_ONLY } = VALID_NOTIFICATION;

/** The worker's defaults: 200 jobs at once, batches of 100, Resend's 2 requests a second. */
function batchingHarness(perSecond = 2) {
  return startWorkerHarness({
    concurrency: 200,
    emailPerSecond: perSecond,
    resend: { requestsPerSecond: 2 },
    emailBatch: { maxSize: 100 },
    // The provider's wait after a misconfiguration, short so the test sees the fix take effect.
    waitMs: { misconfigured: 700 },
  });
}

/** Each job completed without using an attempt, and its email went out exactly once. */
async function expectEachSentOnceWithoutAttempts(h: WorkerHarness, toById: Map<string, string>) {
  for (const [id, to] of toById) {
    const job = await waitForFinished(h.queue, id, 20_000);
    expect(await job.getState()).toBe("completed");
    // One attempt: the try that sent it. The waits before it used none.
    expect(job.attemptsMade).toBe(1);
    const sent = h.resend.emails.filter((email) => email.to === to);
    expect(sent).toHaveLength(1);
    expect((job.returnvalue as DeliveryReport).email.providerId).toBe(sent[0]?.id);
  }
  expect(h.resend.emails).toHaveLength(toById.size);
}

describe("a batch and our sender's faults", () => {
  it("holds Resend back when it refuses the whole request (domain not verified), then sends every member once", async () => {
    harness = await batchingHarness();
    harness.resend.script.failNext(resendError("validation_error:domain_not_verified"));
    const toById = await addPausedEmails(harness, 12, { prefix: "member" });
    await expectEachSentOnceWithoutAttempts(harness, toById);
    const [refused, ...later] = harness.resend.calls;
    expect(refused?.status).toBe(403);
    // The refused key is never replayed: the members went in new batches, under new keys.
    expect(later.some((call) => call.idempotencyKey === refused?.idempotencyKey)).toBe(false);
  });

  it("holds Resend back when a permissive answer lists every email as refused for our sender, and sends each once after the fix", async () => {
    harness = await batchingHarness();
    const h = harness;
    h.resend.state.verifiedDomains = ["another.example"];
    const toById = await addPausedEmails(h, 12, { prefix: "member" });
    // Every member was answered "domain not verified" and waits; none failed.
    await eventually(
      async () => {
        expect(h.resend.calls.filter((call) => call.status === 200).length).toBeGreaterThan(0);
        expect(await h.queue.getDelayedCount()).toBe(12);
      },
      { timeout: 10_000 },
    );
    expect(await h.queue.getFailedCount()).toBe(0);
    expect(h.resend.emails).toHaveLength(0);
    const refusedKeys = new Set(h.resend.calls.map((call) => call.idempotencyKey));
    h.resend.state.verifiedDomains = ["example.com"];
    await expectEachSentOnceWithoutAttempts(h, toById);
    // Sent under new keys: a replay of a refused key gets the stored refusal back for a day.
    const sentKeys = h.resend.calls
      .filter((call) => call.status === 200)
      .map((call) => call.idempotencyKey)
      .filter((key) => !refusedKeys.has(key));
    expect(sentKeys.length).toBeGreaterThan(0);
  });
});

describe("a batch and the suppression list", () => {
  it("leaves out a member whose recipient was suppressed while its batch collected, and reports it suppressed", async () => {
    // One request a second: the batch after the first collects for 1.1 s.
    harness = await batchingHarness(1);
    const h = harness;
    // A first email takes the free slot: the next batch collects until the slot after it.
    await h.queue.add(TRADE_EXECUTED_JOB, { ...EMAIL_ONLY, to: "first@example.com" });
    await eventually(() => expect(h.resend.calls).toHaveLength(1), { interval: 5 });
    const toById = await addPausedEmails(h, 20, { prefix: "member" });
    // Every member opened its try and collects.
    await eventually(
      async () => {
        expect(h.resend.calls).toHaveLength(1);
        expect(await h.queue.getActiveCount()).toBe(20);
      },
      { timeout: 5000, interval: 5 },
    );
    const [suppressedId, suppressedTo] = [...toById][7] ?? [];
    const suppressions = createSuppressionList({
      redis: h.redis,
      keyPrefix: h.queue.qualifiedName,
    });
    await suppressions.add("email", suppressedTo ?? "", {
      reason: "bounce",
      source: "resend",
      at: new Date().toISOString(),
    });
    expect(h.resend.calls).toHaveLength(1);
    const job = await waitForFinished(h.queue, suppressedId ?? "", 10_000);
    expect(await job.getState()).toBe("completed");
    expect((job.returnvalue as DeliveryReport).email).toEqual({ status: "suppressed", calls: 0 });
    for (const id of toById.keys()) await waitForFinished(h.queue, id, 10_000);
    expect(h.resend.emails.map((email) => email.to)).not.toContain(suppressedTo);
    expect(h.resend.emails).toHaveLength(20);
  });
});
