import { randomUUID } from "node:crypto";
import { Job } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initialDeliveryReport } from "../../contract/delivery-report.js";
import { NOTIFICATION_QUEUE, notificationPayloadSchema } from "../../contract/notification-job.js";
import { eventually } from "../../test/fixtures.js";
import {
  startWorkerHarness,
  type WorkerHarness,
  waitForFinished,
} from "../../test/worker-fixture.js";
import { createDigestCollections, type DigestCollections } from "./collection.js";
import { collectFill, type DigestDeps } from "./digest-step.js";
import type { DigestConfig } from "./policy.js";

/** The deployment defaults (worker/env.ts), SMS digested, with `maxFills` fills per digest. */
function digestConfig(maxFills = 100): DigestConfig {
  return {
    channels: {
      sms: { enabled: true, windowMs: 30_000, maxWaitMs: 300_000 },
      email: { enabled: false, windowMs: 30_000, maxWaitMs: 300_000 },
    },
    maxFills,
    finalDelayMs: 200,
  };
}

/** A recipient of the test's own, so messages are counted per test. */
function customer() {
  const digits = String(Math.floor(Math.random() * 1e5)).padStart(5, "0");
  return { phone: `+120255${digits}`, to: `${randomUUID()}@example.com` };
}

/** A fill job's data as a direct producer adds it. */
function fillData(
  order: string,
  id: string,
  figures: { quantity: string; amount: string; price?: string },
  extra: Record<string, unknown> = {},
) {
  return {
    type: "trade.executed",
    asset: "BTC",
    side: "buy",
    currency: "USD",
    order,
    ...figures,
    fill: { id, final: false },
    ...extra,
  };
}

/** Waits until exactly `count` SMS reached `phone`; answers their bodies in arrival order. */
async function smsBodies(harness: WorkerHarness, phone: string, count: number, timeout = 10_000) {
  return eventually(
    () => {
      const messages = harness.twilio.messages.filter((message) => message.to === phone);
      expect(messages).toHaveLength(count);
      return messages.map((message) => message.body);
    },
    { timeout },
  );
}

describe("digest steps in a real worker (direct producers)", () => {
  let harness: WorkerHarness;
  beforeAll(async () => {
    harness = await startWorkerHarness({ digests: digestConfig() });
  });
  afterAll(async () => {
    await harness?.stop();
  });

  it("sends a digest whose totals pass 18 integer digits", async () => {
    const { phone } = customer();
    const order = `ord-${randomUUID()}`;
    const figures = { quantity: "1", amount: "999999999999999999", price: "999999999999999999" };
    await harness.queue.add("trade.executed", { ...fillData(order, "a", figures), phone });
    await harness.queue.add("trade.executed", {
      ...fillData(order, "b", figures, { fill: { id: "b", final: true } }),
      phone,
    });
    expect(await smsBodies(harness, phone, 1)).toEqual([
      `Exchange: You bought 2 BTC for $1,999,999,999,999,999,998.00 in 2 fills, avg price $999,999,999,999,999,999.00. Order ${order}`,
    ]);
  });

  it("sends a fill added twice by a direct producer once: one email, counted once in the digest", async () => {
    const { phone, to } = customer();
    const order = `ord-${randomUUID()}`;
    const figures = { quantity: "1", amount: "40000", price: "40000" };
    const first = await harness.queue.add("trade.executed", {
      ...fillData(order, "f1", figures),
      phone,
      to,
    });
    await waitForFinished(harness.queue, String(first.id));
    const repeat = await harness.queue.add("trade.executed", {
      ...fillData(order, "f1", figures),
      phone,
      to,
    });
    const repeated = await waitForFinished(harness.queue, String(repeat.id));
    await harness.queue.add("trade.executed", {
      ...fillData(order, "f2", figures, { fill: { id: "f2", final: true } }),
      phone,
      to,
    });
    expect(await smsBodies(harness, phone, 1)).toEqual([
      `Exchange: You bought 2 BTC for $80,000.00 in 2 fills, avg price $40,000.00. Order ${order}`,
    ]);
    await eventually(() =>
      expect(harness.resend.emails.filter((email) => [email.to].flat().includes(to))).toHaveLength(
        2,
      ),
    );
    expect(repeated.returnvalue).toMatchObject({
      email: { status: "skipped", calls: 0, error: { code: "repeated_fill" } },
      sms: { status: "digested", calls: 0 },
    });
  });

  it("fails a fill whose asset or side contradicts its order's first fill, and leaves the digest alone", async () => {
    const { phone } = customer();
    const order = `ord-${randomUUID()}`;
    const figures = { quantity: "1", amount: "40000", price: "40000" };
    const first = await harness.queue.add("trade.executed", {
      ...fillData(order, "f1", figures),
      phone,
    });
    await waitForFinished(harness.queue, String(first.id));
    const other = await harness.queue.add("trade.executed", {
      ...fillData(order, "f2", { quantity: "7", amount: "7000", price: "1000" }, { asset: "ETH" }),
      phone,
    });
    const refused = await waitForFinished(harness.queue, String(other.id));
    expect(refused.failedReason).toBe(
      "Fill f2 contradicts its order's first fill: asset is ETH, the order's is BTC",
    );
    await harness.queue.add("trade.executed", {
      ...fillData(order, "f3", figures, { fill: { id: "f3", final: true } }),
      phone,
    });
    expect(await smsBodies(harness, phone, 1)).toEqual([
      `Exchange: You bought 2 BTC for $80,000.00 in 2 fills, avg price $40,000.00. Order ${order}`,
    ]);
  });

  it("keeps each submitting key's digest of an order and phone apart: no merge, no stolen fill id", async () => {
    const { phone } = customer();
    const order = `ord-${randomUUID()}`;
    // Another key sends the real fill's id first, with its own figures and a 1 s window.
    const intruder = await harness.queue.add("trade.executed", {
      ...fillData(order, "f1", { quantity: "1000", amount: "10000000", price: "10000" }),
      phone,
      submittedBy: "key-b",
      digest: { sms: { windowMs: 1000 } },
    });
    await waitForFinished(harness.queue, String(intruder.id));
    const real = { quantity: "0.5", amount: "20000", price: "40000" };
    await harness.queue.add("trade.executed", {
      ...fillData(order, "f1", real),
      phone,
      submittedBy: "key-a",
    });
    await harness.queue.add("trade.executed", {
      ...fillData(order, "f2", real, { fill: { id: "f2", final: true } }),
      phone,
      submittedBy: "key-a",
    });
    const bodies = await smsBodies(harness, phone, 2);
    expect(bodies.sort()).toEqual([
      `Exchange: You bought 1 BTC for $40,000.00 in 2 fills, avg price $40,000.00. Order ${order}`,
      `Exchange: You bought 1,000 BTC for $10,000,000.00 in 1 fill, avg price $10,000.00. Order ${order}`,
    ]);
  });
});

/** The digest steps as `harness`'s worker has them, over `collections` when given. */
function digestDeps(harness: WorkerHarness, collections?: DigestCollections): DigestDeps {
  const config = digestConfig();
  return {
    config,
    collections:
      collections ??
      createDigestCollections({
        redis: harness.connection,
        keyPrefix: `${harness.prefix}:${NOTIFICATION_QUEUE}`,
        maxFills: config.maxFills,
        finalDelayMs: config.finalDelayMs,
        ttlMs: 60_000,
      }),
    queue: harness.queue,
    jobSettings: { attempts: 4, backoffDelayMs: 20 },
    metrics: harness.metrics,
  };
}

/** Runs the fill step of a job with `data`, as the processor does before any send. */
async function collect(harness: WorkerHarness, data: Record<string, unknown>, deps: DigestDeps) {
  const job = new Job(harness.queue, "trade.executed", data, {}, randomUUID());
  const payload = notificationPayloadSchema.parse(data);
  const report = initialDeliveryReport(payload);
  await collectFill(job, payload, report, deps);
  return report;
}

describe("digest timing in a real worker", () => {
  let harness: WorkerHarness;
  beforeAll(async () => {
    harness = await startWorkerHarness({ digests: digestConfig() });
  });
  afterAll(async () => {
    await harness?.stop();
  });

  it("sends the digest within a second of the final fill when an earlier fill schedules it last", async () => {
    const { phone } = customer();
    const order = `ord-${randomUUID()}`;
    const figures = { quantity: "1", amount: "40000", price: "40000" };
    const plain = digestDeps(harness);
    // The earlier fill is recorded first, but its job schedules the digest after the final fill's.
    let recordedEarlier!: () => void;
    const earlierRecorded = new Promise<void>((resolve) => {
      recordedEarlier = resolve;
    });
    let releaseEarlier!: () => void;
    const earlierReleased = new Promise<void>((resolve) => {
      releaseEarlier = resolve;
    });
    const holding: DigestCollections = {
      ...plain.collections,
      async record(fill, now) {
        const recorded = await plain.collections.record(fill, now);
        recordedEarlier();
        await earlierReleased;
        return recorded;
      },
    };
    const earlier = collect(
      harness,
      { ...fillData(order, "f1", figures), phone },
      digestDeps(harness, holding),
    );
    await earlierRecorded;
    await collect(
      harness,
      { ...fillData(order, "f2", figures, { fill: { id: "f2", final: true } }), phone },
      plain,
    );
    const finalAt = Date.now();
    releaseEarlier();
    await earlier;
    const [sms] = await eventually(() => {
      const messages = harness.twilio.messages.filter((message) => message.to === phone);
      expect(messages).toHaveLength(1);
      return messages;
    });
    expect(sms?.body).toBe(
      `Exchange: You bought 2 BTC for $80,000.00 in 2 fills, avg price $40,000.00. Order ${order}`,
    );
    expect(sms?.receivedAt).toBeLessThan(finalAt + 1000);
  });
});

describe("the fill limit per digest (DIGEST_MAX_FILLS)", () => {
  let harness: WorkerHarness;
  beforeAll(async () => {
    harness = await startWorkerHarness({ digests: digestConfig(10) });
  });
  afterAll(async () => {
    await harness?.stop();
  });

  it("sends 25 fills queued at once as digests of 10, 10 and 5: the extra fills start the next", async () => {
    const { phone } = customer();
    const order = `ord-${randomUUID()}`;
    const figures = { quantity: "0.01", amount: "400", price: "40000" };
    await harness.queue.addBulk(
      Array.from({ length: 25 }, (_, index) => ({
        name: "trade.executed",
        data: {
          ...fillData(order, `f${index + 1}`, figures, {
            fill: { id: `f${index + 1}`, final: index === 24 },
          }),
          phone,
        },
      })),
    );
    const bodies = await smsBodies(harness, phone, 3);
    expect(bodies.sort()).toEqual([
      `Exchange: You bought 0.05 BTC for $2,000.00 in 5 fills, avg price $40,000.00. Order ${order}`,
      `Exchange: You bought 0.1 BTC for $4,000.00 in 10 fills, avg price $40,000.00. Order ${order}`,
      `Exchange: You bought 0.1 BTC for $4,000.00 in 10 fills, avg price $40,000.00. Order ${order}`,
    ]);
  });
});
