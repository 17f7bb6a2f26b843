import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DeliveryReport } from "../contract/delivery-report.js";
import { createTestQueue } from "../test/fixtures.js";
import { createDeliveryStore, type DeliveryTransition } from "./delivery-store.js";

let fixture: Awaited<ReturnType<typeof createTestQueue>>;
let store: ReturnType<typeof createDeliveryStore>;
const RETENTION = 30 * 24 * 60 * 60;
beforeEach(async () => {
  fixture = await createTestQueue();
  store = createDeliveryStore({
    redis: fixture.redis,
    keyPrefix: fixture.queue.qualifiedName,
    retentionSeconds: RETENTION,
  });
});
afterEach(async () => {
  await fixture.cleanup();
});

const REPORT: DeliveryReport = {
  email: { status: "sent", calls: 1, providerId: "email-1" },
  sms: { status: "skipped", calls: 0 },
};

function sent(providerId = "email-1"): DeliveryTransition {
  return {
    channel: "email",
    status: "sent",
    at: 1_000,
    source: "worker",
    event: "sent",
    key: `worker:email:sent:${providerId}`,
    providerId,
  };
}

function resend(
  type: string,
  status?: DeliveryTransition["status"],
  at = 2_000,
): DeliveryTransition {
  return {
    channel: "email",
    at,
    source: "resend",
    event: type,
    key: `resend:email-1:${type}`,
    providerId: "email-1",
    ...(status ? { status } : {}),
  };
}

async function recordSent(id = "n-1") {
  return store.recordWorker({
    notificationId: id,
    submittedBy: "key-1",
    createdAt: 500,
    attemptsMade: 1,
    report: REPORT,
    transitions: [sent()],
    providerIds: [{ provider: "resend", providerId: "email-1" }],
  });
}

describe("the delivery store", () => {
  it("moves a channel forward only, and records each event once", async () => {
    await recordSent();
    expect(
      await store.applyProviderEvent("resend", "email-1", resend("email.delivered", "delivered")),
    ).toEqual({
      outcome: "changed",
      notificationId: "n-1",
      previous: "sent",
    });
    expect(
      (await store.applyProviderEvent("resend", "email-1", resend("email.delivered", "delivered")))
        .outcome,
    ).toBe("duplicate");
    // A late `sent` (lower rank): timeline only.
    expect(
      (await store.applyProviderEvent("resend", "email-1", resend("email.sent", "sent"))).outcome,
    ).toBe("recorded");
    // A delay is no status.
    expect(
      (await store.applyProviderEvent("resend", "email-1", resend("email.delivery_delayed")))
        .outcome,
    ).toBe("recorded");
    // Bad news outranks delivered, a complaint outranks a bounce.
    expect(
      (await store.applyProviderEvent("resend", "email-1", resend("email.bounced", "bounced")))
        .outcome,
    ).toBe("changed");
    expect(
      (
        await store.applyProviderEvent(
          "resend",
          "email-1",
          resend("email.complained", "complained"),
        )
      ).outcome,
    ).toBe("changed");
    const record = await store.read("n-1");
    expect(record).toMatchObject({
      notificationId: "n-1",
      submittedBy: "key-1",
      createdAt: 500,
      attemptsMade: 1,
      report: REPORT,
      channels: {
        email: { status: "complained", providerId: "email-1", at: new Date(2_000).toISOString() },
      },
    });
    expect(record?.timeline.map((entry) => entry.event)).toEqual([
      "sent",
      "email.delivered",
      "email.sent",
      "email.delivery_delayed",
      "email.bounced",
      "email.complained",
    ]);
  });

  it("keeps an event that arrives before the worker's record, and applies it when the record comes", async () => {
    expect(
      await store.applyProviderEvent("resend", "email-1", resend("email.delivered", "delivered")),
    ).toEqual({
      outcome: "pending",
    });
    const drained = await recordSent();
    expect(drained).toEqual([
      { transition: resend("email.delivered", "delivered"), outcome: "changed", previous: "sent" },
    ]);
    expect((await store.read("n-1"))?.channels.email?.status).toBe("delivered");
    // Drained once: the pending list is gone.
    expect(await recordSent()).toEqual([]);
  });

  it("lets the worker's new word replace its own earlier one (a retried channel), not a provider's", async () => {
    await store.recordWorker({
      notificationId: "n-2",
      createdAt: 500,
      attemptsMade: 4,
      report: REPORT,
      transitions: [
        {
          channel: "sms",
          status: "failed",
          at: 1_000,
          source: "worker",
          event: "failed",
          key: "worker:sms:failed:3",
          code: "21612",
        },
      ],
      providerIds: [],
    });
    await store.recordWorker({
      notificationId: "n-2",
      createdAt: 500,
      attemptsMade: 5,
      report: REPORT,
      outcome: { status: "completed", finishedAt: 3_000 },
      transitions: [
        {
          channel: "sms",
          status: "sent",
          at: 2_000,
          source: "worker",
          event: "sent",
          key: "worker:sms:sent:SM1",
          providerId: "SM1",
        },
      ],
      providerIds: [{ provider: "twilio", providerId: "SM1" }],
    });
    const record = await store.read("n-2");
    expect(record?.channels.sms).toMatchObject({ status: "sent", providerId: "SM1" });
    expect(record).toMatchObject({ outcome: "completed", finishedAt: 3_000, attemptsMade: 5 });
  });

  it("does not index a provider id another notification holds, and expires its keys", async () => {
    const index = `${fixture.queue.qualifiedName}:provider-id:twilio:SM9`;
    await fixture.redis.set(index, "other", "EX", 60);
    await store.recordWorker({
      notificationId: "n-3",
      createdAt: 500,
      attemptsMade: 1,
      report: REPORT,
      transitions: [],
      providerIds: [{ provider: "twilio", providerId: "SM9" }],
    });
    expect(await fixture.redis.get(index)).toBe("other");
    expect(await fixture.redis.ttl(index)).toBeLessThanOrEqual(60);
    const ttl = await fixture.redis.ttl(`${fixture.queue.qualifiedName}:delivery:n-3`);
    expect(ttl).toBeGreaterThan(RETENTION - 60);
    expect(await store.read("missing")).toBeUndefined();
  });
});
