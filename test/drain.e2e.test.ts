/**
 * A backlog of 2,000 emails drained by a worker process with the defaults a deployment runs (only
 * the credentials set), against a fake Resend that enforces its default 2 requests a second. The
 * rate is read from the requests' count, not from a clock: 2,000 emails in at most 22 requests is
 * at least 180 emails a second at 2 requests a second. `npm run bench` measures the time itself.
 */
import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { notificationJobOptions, TRADE_EXECUTED_JOB } from "../contract/notification-job.js";
import { type FakeResend, startFakeResend } from "./fakes/resend.js";
import { type FakeTwilio, startFakeTwilio } from "./fakes/twilio.js";
import { createTestQueue, eventually, redisUrl } from "./fixtures.js";
import { VALID_NOTIFICATION } from "./gateway-fixture.js";
import { type ServiceProcess, startService } from "./support/processes.js";
import { providerEnv } from "./worker-fixture.js";

const BACKLOG = 2000;
const { phone: _phone, ...EMAIL_ONLY } = VALID_NOTIFICATION;

describe("draining a backlog with the defaults", () => {
  let resend: FakeResend;
  let twilio: FakeTwilio;
  let fixture: Awaited<ReturnType<typeof createTestQueue>>;
  const workers: ServiceProcess[] = [];

  afterEach(async () => {
    await Promise.all(workers.map((worker) => worker.stop("SIGKILL")));
    workers.length = 0;
    await Promise.all([resend.close(), twilio.close(), fixture.cleanup()]);
  });

  /** 2,000 email notifications waiting, and the worker's environment: credentials only. */
  async function backlog(extra: Record<string, string> = {}) {
    resend = await startFakeResend({ requestsPerSecond: 2 });
    twilio = await startFakeTwilio();
    fixture = await createTestQueue();
    const toById = new Map<string, string>();
    const jobs = Array.from({ length: BACKLOG }, (_, index) => {
      const id = randomUUID();
      const to = `trader${index}@example.com`;
      toById.set(id, to);
      return {
        name: TRADE_EXECUTED_JOB,
        data: { ...EMAIL_ONLY, to, order: `ord-${index}` },
        opts: { ...notificationJobOptions({ attempts: 4, backoffDelayMs: 2000 }), jobId: id },
      };
    });
    for (let start = 0; start < jobs.length; start += 500) {
      await fixture.queue.addBulk(jobs.slice(start, start + 500));
    }
    const env = {
      REDIS_URL: redisUrl(),
      QUEUE_PREFIX: fixture.prefix,
      ...providerEnv(resend, twilio),
      ...extra,
    };
    return { toById, env };
  }

  /** Every notification completed, each email at the fake exactly once, none refused with 429. */
  async function expectEachOnce(toById: Map<string, string>) {
    await eventually(async () => expect(await fixture.queue.getCompletedCount()).toBe(BACKLOG), {
      timeout: 150_000,
      interval: 200,
    });
    const recipients = resend.emails.map((email) => email.to);
    expect(recipients).toHaveLength(BACKLOG);
    expect(new Set(recipients)).toEqual(new Set(toById.values()));
    expect(resend.calls.filter((call) => call.status === 429)).toHaveLength(0);
    expect(await fixture.queue.getFailedCount()).toBe(0);
  }

  it("sends 2,000 emails once each in at most 22 requests", async () => {
    const { toById, env } = await backlog();
    const worker = startService("worker", env);
    workers.push(worker);
    await expectEachOnce(toById);
    expect(resend.calls.length).toBeLessThanOrEqual(22);
  }, 180_000);

  it("sends each email once when the worker is SIGKILLed half-way and another takes over", async () => {
    // Short locks so the dead worker's jobs come back within seconds.
    const { toById, env } = await backlog({
      WORKER_LOCK_DURATION_MS: "2000",
      WORKER_STALLED_INTERVAL_MS: "1000",
    });
    const first = startService("worker", env);
    workers.push(first);
    await eventually(() => expect(resend.emails.length).toBeGreaterThanOrEqual(BACKLOG / 2), {
      timeout: 90_000,
      interval: 50,
    });
    expect(await first.stop("SIGKILL")).toBeNull();
    workers.push(startService("worker", env));
    await expectEachOnce(toById);
  }, 240_000);
});
