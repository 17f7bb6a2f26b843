import { Job } from "bullmq";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DeliveryReport } from "../contract/delivery-report.js";
import { createSuppressionList } from "../lib/suppressions.js";
import { createTestQueue } from "../test/fixtures.js";
import { createProviderGate } from "./provider-gate.js";
import { createTryOpener } from "./try-opening.js";

let fixture: Awaited<ReturnType<typeof createTestQueue>>;
let openTry: ReturnType<typeof createTryOpener>;
let gate: ReturnType<typeof createProviderGate>;
let suppressions: ReturnType<typeof createSuppressionList>;
beforeEach(async () => {
  fixture = await createTestQueue();
  const keyPrefix = fixture.queue.qualifiedName;
  gate = createProviderGate({ redis: fixture.redis, keyPrefix, perSecond: { twilio: 10 } });
  suppressions = createSuppressionList({ redis: fixture.redis, keyPrefix });
  openTry = createTryOpener({ redis: fixture.redis, gate, suppressions });
});
afterEach(async () => {
  await fixture.cleanup();
});

const CANDIDATES = [
  { channel: "email" as const, recipient: "a@example.com" },
  { channel: "sms" as const, recipient: "+12025550143" },
];
const BOOKINGS = [{ channel: "sms" as const, provider: "twilio" }];
const MARKED: DeliveryReport = {
  email: { status: "pending", calls: 0 },
  sms: { status: "pending", calls: 0, inFlightSince: 1_000 },
};

let JOIN: { key: string; member: string; ttlMs: number };
beforeEach(() => {
  JOIN = { key: `${fixture.queue.qualifiedName}:in-flight:sms:abc`, member: "n1", ttlMs: 60_000 };
});

async function addJob() {
  const added = await fixture.queue.add("trade.executed", { to: "a@example.com" });
  const job = await Job.fromId(fixture.queue, added.id ?? "");
  if (!job) throw new Error("job not found");
  return job;
}

/** The job's progress as Redis holds it (what the gateway and a later try read). */
async function storedProgress(id: string | undefined): Promise<unknown> {
  return (await Job.fromId(fixture.queue, id ?? ""))?.progress;
}

describe("openTry", () => {
  it("writes the record of the calls as the job's progress, with its progress event, and joins their look-alike sets, when every slot is free and no one is suppressed", async () => {
    const job = await addJob();
    const opened = await openTry(job, {
      candidates: CANDIDATES,
      bookings: BOOKINGS,
      record: MARKED,
      join: [JOIN],
    });
    expect(await fixture.redis.smembers(JOIN.key)).toEqual(["n1"]);
    const ttl = await fixture.redis.pttl(JOIN.key);
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    expect(opened).toEqual({ suppressed: [], reservations: { sms: { go: true } }, recorded: true });
    expect(await storedProgress(job.id)).toEqual(MARKED);
    expect(job.progress).toEqual(MARKED);
    const events = await fixture.redis.xrange(`${fixture.queue.qualifiedName}:events`, "-", "+");
    const progress = events.filter(([, fields]) => fields[1] === "progress");
    expect(progress.map(([, fields]) => fields)).toEqual([
      ["event", "progress", "jobId", job.id, "data", JSON.stringify(MARKED)],
    ]);
  });

  it("books no slot for a suppressed recipient's channel and leaves the record and the look-alike sets to the processor", async () => {
    const job = await addJob();
    await suppressions.add("sms", "+12025550143", { reason: "stop", source: "twilio", at: "x" });
    const opened = await openTry(job, {
      candidates: CANDIDATES,
      bookings: BOOKINGS,
      record: MARKED,
      join: [JOIN],
    });
    expect(opened).toEqual({ suppressed: ["sms"], reservations: {}, recorded: false });
    expect(await storedProgress(job.id)).toBe(0);
    expect(await fixture.redis.exists(JOIN.key)).toBe(0);
    // The slot is still free: the next booking is not pushed back.
    expect(await gate.book("twilio")).toEqual({ delayMs: 0 });
  });

  it("answers a provider's wait and leaves the record to the processor", async () => {
    const job = await addJob();
    await gate.hold("twilio", 60_000, "rate_limited", "20429");
    const opened = await openTry(job, {
      candidates: CANDIDATES,
      bookings: BOOKINGS,
      record: MARKED,
    });
    expect(opened.recorded).toBe(false);
    expect(opened.reservations.sms).toMatchObject({
      go: false,
      wait: { reason: "rate_limited", code: "20429" },
    });
    expect(await storedProgress(job.id)).toBe(0);
  });

  it("leaves the record to the processor when a slot is later than now, and waits for it", async () => {
    const job = await addJob();
    await gate.book("twilio"); // the next slot is a tenth of a second (and a guard) away
    const started = Date.now();
    const opened = await openTry(job, { candidates: [], bookings: BOOKINGS, record: MARKED });
    expect(opened).toEqual({
      suppressed: [],
      reservations: { sms: { go: true } },
      recorded: false,
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(await storedProgress(job.id)).toBe(0);
  });
});
