import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { notificationJobOptions, TRADE_EXECUTED_JOB } from "../contract/notification-job.js";
import { type RedisServer, startRedisServer } from "../scripts/redis-server.js";
import { newWebhookSecret } from "./fakes/events-backend.js";
import { type FakeResend, startFakeResend } from "./fakes/resend.js";
import { type FakeTwilio, startFakeTwilio } from "./fakes/twilio.js";
import { createTestQueue, eventually, redisUrl } from "./fixtures.js";
import { VALID_NOTIFICATION } from "./gateway-fixture.js";
import { type ServiceProcess, startService } from "./support/processes.js";
import { providerEnv, waitForFinished } from "./worker-fixture.js";

/** A worker on the fixture's queue with short locks, so a dead worker's job is recovered in seconds. */
function workerEnv(
  fixture: Awaited<ReturnType<typeof createTestQueue>>,
  resend: FakeResend,
  twilio: FakeTwilio,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    REDIS_URL: redisUrl(),
    QUEUE_PREFIX: fixture.prefix,
    WORKER_LOCK_DURATION_MS: "1000",
    WORKER_STALLED_INTERVAL_MS: "500",
    JOB_BACKOFF_DELAY_MS: "50",
    ...providerEnv(resend, twilio),
    ...extra,
  };
}

describe("worker deaths: a worker killed mid-send, twice, or stopped while a provider hangs", () => {
  let resend: FakeResend;
  let twilio: FakeTwilio;
  let fixture: Awaited<ReturnType<typeof createTestQueue>>;
  const workers: ServiceProcess[] = [];

  afterEach(async () => {
    await Promise.all(workers.map((worker) => worker.stop("SIGKILL")));
    workers.length = 0;
    await Promise.all([resend.close(), twilio.close(), fixture.cleanup()]);
  });

  it("does not send the email or the SMS a second time when another worker takes the job over", async () => {
    resend = await startFakeResend();
    // Twilio accepts the SMS at once but answers after 3 s: the job is still active then.
    twilio = await startFakeTwilio({ latencyMs: 3000 });
    fixture = await createTestQueue();
    const env = workerEnv(fixture, resend, twilio);
    const first = startService("worker", env);
    workers.push(first);
    await first.waitForLine(/worker ready/);

    const id = randomUUID();
    await fixture.queue.add(TRADE_EXECUTED_JOB, VALID_NOTIFICATION, {
      ...notificationJobOptions({ attempts: 4, backoffDelayMs: 50 }),
      jobId: id,
    });
    await eventually(() => {
      expect(resend.emails).toHaveLength(1);
      expect(twilio.messages).toHaveLength(1);
    });
    expect(await first.stop("SIGKILL")).toBeNull();
    twilio.state.latencyMs = 0;

    const second = startService("worker", env);
    workers.push(second);
    const job = await waitForFinished(fixture.queue, id, 20_000);

    expect(await job.getState()).toBe("completed");
    expect(resend.calls).toHaveLength(2);
    // The same batch key both times: the second worker re-sent the recorded batch.
    const [firstKey, secondKey] = resend.calls.map((call) => call.idempotencyKey);
    expect(firstKey).toMatch(/^batch\/[0-9a-f-]{36}$/);
    expect(secondKey).toBe(firstKey);
    expect(resend.emails).toHaveLength(1);
    expect(twilio.calls).toHaveLength(1);
    expect(twilio.lookups).toHaveLength(1);
    expect(twilio.messages).toHaveLength(1);
    expect(job.returnvalue).toMatchObject({
      email: { status: "sent", providerId: resend.emails[0]?.id },
      sms: { status: "sent", providerId: twilio.messages[0]?.sid },
    });
  });

  // Worker deaths and shutdowns, within the retry budget.

  it("survives two workers killed with its SMS in flight, and sends the SMS once (still queued at Twilio)", async () => {
    resend = await startFakeResend();
    // Twilio accepts at once but answers after 30 s, and keeps the SMS queued (1 per 100 s); its
    // list answers take as long, so the second worker dies during its look-up, not after it.
    twilio = await startFakeTwilio({ latencyMs: 30_000, sendRatePerSecond: 0.01 });
    twilio.state.lookupLatencyMs = 30_000;
    fixture = await createTestQueue();
    const env = workerEnv(fixture, resend, twilio);
    const { to: _to, ...smsOnly } = VALID_NOTIFICATION;
    const id = randomUUID();
    await fixture.queue.add(TRADE_EXECUTED_JOB, smsOnly, {
      ...notificationJobOptions({ attempts: 4, backoffDelayMs: 50 }),
      jobId: id,
    });
    for (let death = 1; death <= 2; death++) {
      const doomed = startService("worker", env);
      workers.push(doomed);
      // Each worker gets as far as Twilio (a look-up first from the second on), then dies.
      await eventually(
        () => expect(twilio.calls.length + twilio.lookups.length).toBeGreaterThanOrEqual(death),
        { timeout: 20_000 },
      );
      expect(await doomed.stop("SIGKILL")).toBeNull();
    }
    twilio.state.latencyMs = 0;
    twilio.state.lookupLatencyMs = 0;
    const survivor = startService("worker", env);
    workers.push(survivor);
    const job = await waitForFinished(fixture.queue, id, 20_000);
    expect(await job.getState()).toBe("completed");
    expect(twilio.calls).toHaveLength(1);
    expect(twilio.messages).toHaveLength(1);
    expect(job.returnvalue).toMatchObject({
      sms: { status: "sent", providerId: twilio.messages[0]?.sid },
    });
  });

  it("exits within WORKER_SHUTDOWN_TIMEOUT_MS + 2 s of SIGTERM while a provider hangs, and another worker finishes the job without a second SMS", async () => {
    resend = await startFakeResend();
    twilio = await startFakeTwilio({ latencyMs: 60_000 });
    fixture = await createTestQueue();
    const env = workerEnv(fixture, resend, twilio, { WORKER_SHUTDOWN_TIMEOUT_MS: "1000" });
    const hung = startService("worker", env);
    workers.push(hung);
    await hung.waitForLine(/worker ready/);
    const { to: _to, ...smsOnly } = VALID_NOTIFICATION;
    const id = randomUUID();
    await fixture.queue.add(TRADE_EXECUTED_JOB, smsOnly, {
      ...notificationJobOptions({ attempts: 4, backoffDelayMs: 50 }),
      jobId: id,
    });
    await eventually(() => expect(twilio.calls).toHaveLength(1));
    const signalled = performance.now();
    // Not 0: the SMS in flight was abandoned, not finished.
    expect(await hung.stop("SIGTERM")).toBe(1);
    expect(performance.now() - signalled).toBeLessThan(1000 + 2000);
    expect(hung.lines.some((line) => line.includes("in-flight work did not finish in time"))).toBe(
      true,
    );

    twilio.state.latencyMs = 0;
    workers.push(startService("worker", env));
    const job = await waitForFinished(fixture.queue, id, 20_000);
    expect(await job.getState()).toBe("completed");
    expect(twilio.messages).toHaveLength(1);
  });
});

describe("SIGTERM with Redis unreachable and nothing in flight", () => {
  let resend: FakeResend;
  let twilio: FakeTwilio;
  let redis: RedisServer;
  let worker: ServiceProcess | undefined;

  afterEach(async () => {
    await worker?.stop("SIGKILL");
    worker = undefined;
    // A stopped server takes its SIGTERM only once continued.
    redis.process.kill("SIGCONT");
    await Promise.all([redis.stop(), resend.close(), twilio.close()]);
  });

  /** The state letter of /proc/<pid>/stat: `T` once a SIGSTOP took effect. */
  function processState(pid: number | undefined): string {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(") ") + 2).split(" ")[0] ?? "";
  }

  const cuts: Record<string, (worker: ServiceProcess) => Promise<void>> = {
    /** Redis takes connections and answers nothing, as a hung or partitioned server does. */
    "hangs (SIGSTOP)": async () => {
      redis.process.kill("SIGSTOP");
      await eventually(() => expect(processState(redis.process.pid)).toBe("T"));
    },
    /** Redis refuses connections: the worker sees its connections close. */
    "is gone (SIGKILL)": async (worker: ServiceProcess) => {
      await redis.stop();
      await worker.waitForLine(/redis connection error/);
    },
  };

  for (const [how, cut] of Object.entries(cuts)) {
    it(`exits 0 within 5 s of SIGTERM when Redis ${how}, with the default grace period, logging nothing abandoned`, async () => {
      resend = await startFakeResend();
      twilio = await startFakeTwilio();
      redis = await startRedisServer();
      // The default configuration (a 30 s grace period), with the events' worker on too.
      worker = startService("worker", {
        REDIS_URL: redis.url,
        EVENTS_WEBHOOK_URL: "http://127.0.0.1:9/events",
        EVENTS_WEBHOOK_SECRET: newWebhookSecret(),
        ...providerEnv(resend, twilio),
      });
      await worker.waitForLine(/worker ready/);
      await cut(worker);
      const signalled = performance.now();
      expect(await worker.stop("SIGTERM")).toBe(0);
      expect(performance.now() - signalled).toBeLessThan(5000);
      expect(worker.lines.filter((line) => line.includes("abandoned"))).toEqual([]);
      expect(worker.lines.filter((line) => line.includes('"msg":"stopped"'))).toHaveLength(1);
      // Past the default 30 s grace period: an unfixed worker fails the assertions, not the timeout.
    }, 60_000);
  }
});
