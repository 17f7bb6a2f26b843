import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { notificationJobOptions } from "../contract/notification-job.js";
import { DEFAULT_JOB_SETTINGS } from "../lib/env.js";
import { freePort, type RedisServer, startRedisServer } from "../scripts/redis-server.js";
import { type FakeResend, startFakeResend } from "./fakes/resend.js";
import { type FakeTwilio, startFakeTwilio } from "./fakes/twilio.js";
import { createTestQueue, eventually, redisUrl } from "./fixtures.js";
import { postNotification, TEST_API_KEY, VALID_NOTIFICATION } from "./gateway-fixture.js";
import { type ServiceProcess, startService, waitForGatewayReady } from "./support/processes.js";
import { providerEnv } from "./worker-fixture.js";

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups.length = 0;
});

async function fakes(latencyMs = 0): Promise<{ resend: FakeResend; twilio: FakeTwilio }> {
  const resend = await startFakeResend({ latencyMs });
  const twilio = await startFakeTwilio({ latencyMs });
  cleanups.push(() => Promise.all([resend.close(), twilio.close()]));
  return { resend, twilio };
}

/**
 * These faults are about processes, Redis and providers, and count emails per call and per
 * key: workers send one email a request here (EMAIL_BATCH_SIZE=1). Batches under faults are
 * covered by worker/batch-sending.test.ts and the soak.
 */
function service(name: "gateway" | "worker", env: Record<string, string>): ServiceProcess {
  const process = startService(name, name === "worker" ? { EMAIL_BATCH_SIZE: "1", ...env } : env);
  cleanups.push(() => process.stop("SIGKILL"));
  return process;
}

/** The notification id in a Resend idempotency key (`<deployment>/<id>/<created>/email`). */
const idOfEmailKey = (key: string | undefined) => key?.split("/")[1];
const { phone: _phone, ...EMAIL_ONLY } = VALID_NOTIFICATION;

describe("faults, with real gateway, worker and redis-server processes", () => {
  it("Redis killed under load: 503 within a second, /readyz 503, then both recover and every 202 is delivered", async () => {
    const dir = mkdtempSync(join(tmpdir(), "notify-aof-"));
    // appendfsync always: every acknowledged write is on disk before Redis answers.
    const redisArgs = ["--appendonly", "yes", "--appendfsync", "always"];
    let redis: RedisServer = await startRedisServer({ dir, extraArgs: redisArgs });
    cleanups.push(
      () => rmSync(dir, { recursive: true, force: true }),
      () => redis.stop(),
    );
    const { resend, twilio } = await fakes();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env = { REDIS_URL: redis.url };
    const gateway = service("gateway", {
      ...env,
      PORT: String(port),
      API_KEYS: TEST_API_KEY,
      API_RATE_LIMIT_PER_MINUTE: "0",
    });
    service("worker", {
      ...env,
      ...providerEnv(resend, twilio),
      RATE_LIMIT_PER_SECOND: "1000",
      EMAIL_RATE_LIMIT_PER_SECOND: "0",
      SMS_RATE_LIMIT_PER_SECOND: "0",
    });
    await waitForGatewayReady(gateway, port);

    const accepted: string[] = [];
    const statuses = new Set<number>();
    let outage = false;
    const slowDuringOutage: number[] = [];
    let sending = true;
    const load = Promise.all(
      Array.from({ length: 3 }, async () => {
        while (sending) {
          const started = performance.now();
          const response = await postNotification(base, {
            ...VALID_NOTIFICATION,
            order: randomUUID(),
          }).catch(() => undefined);
          const elapsed = performance.now() - started;
          if (!response) continue;
          statuses.add(response.status);
          if (response.status === 202)
            accepted.push(((await response.json()) as { id: string }).id);
          else await response.body?.cancel();
          if (outage && elapsed > 1000) slowDuringOutage.push(elapsed);
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      }),
    );

    await eventually(() => expect(accepted.length).toBeGreaterThan(30));
    redis.process.kill("SIGKILL");
    await new Promise((resolve) => redis.process.once("exit", resolve));
    outage = true;
    await eventually(async () => expect((await fetch(`${base}/readyz`)).status).toBe(503));
    await eventually(() => expect(statuses.has(503)).toBe(true));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    outage = false;

    redis = await startRedisServer({ dir, port: redis.port, extraArgs: redisArgs });
    await eventually(async () => expect((await fetch(`${base}/readyz`)).status).toBe(200), {
      timeout: 20_000,
    });
    const beforeRecovery = accepted.length;
    await eventually(() => expect(accepted.length).toBeGreaterThan(beforeRecovery + 10), {
      timeout: 20_000,
    });
    sending = false;
    await load;

    expect([...statuses].sort()).toEqual([202, 503]);
    expect(slowDuringOutage).toEqual([]);
    // A job a worker was running when Redis died can be left active with its lock: it comes back
    // through BullMQ's stalled check, within the lock plus two check intervals (30 s each).
    await eventually(
      () => {
        const delivered = new Set(resend.emails.map((email) => idOfEmailKey(email.idempotencyKey)));
        expect(accepted.filter((id) => !delivered.has(id))).toEqual([]);
        // The SMS too: one in flight when Redis died is retried after a look-up, a little later.
        expect(twilio.messages.length).toBeGreaterThanOrEqual(accepted.length);
      },
      { timeout: 100_000 },
    );
    expect(resend.emails).toHaveLength(
      new Set(resend.emails.map((email) => email.idempotencyKey)).size,
    );
    // Every accepted notification's SMS went out once. A request cut off by the crash may have
    // been queued although it was answered 503 (at least once into the queue): it is delivered
    // too, still once; a caller retries such a request with an Idempotency-Key.
    const bodies = twilio.messages.map((message) => message.body);
    expect(new Set(bodies).size).toBe(bodies.length);
    expect(bodies.length - accepted.length).toBeGreaterThanOrEqual(0);
    expect(bodies.length - accepted.length).toBeLessThanOrEqual(3);
    expect(resend.emails.length).toBe(bodies.length);
  }, 180_000);

  it("SIGTERM while sends are in flight: they finish and are recorded, the worker exits 0, nothing stays locked", async () => {
    const { resend, twilio } = await fakes(1500);
    const fixture = await createTestQueue();
    cleanups.push(() => fixture.cleanup());
    const worker = service("worker", {
      REDIS_URL: redisUrl(),
      QUEUE_PREFIX: fixture.prefix,
      ...providerEnv(resend, twilio),
      RATE_LIMIT_PER_SECOND: "1000",
      EMAIL_RATE_LIMIT_PER_SECOND: "0",
    });
    await worker.waitForLine(/worker ready/);
    const ids = Array.from({ length: 5 }, () => randomUUID());
    await fixture.queue.addBulk(
      ids.map((id) => ({
        name: "trade.executed",
        data: EMAIL_ONLY,
        opts: { ...notificationJobOptions(DEFAULT_JOB_SETTINGS), jobId: id },
      })),
    );
    await eventually(() => expect(resend.calls).toHaveLength(5));

    const stopping = performance.now();
    expect(await worker.stop("SIGTERM")).toBe(0);
    expect(performance.now() - stopping).toBeLessThan(10_000);
    for (const id of ids) {
      const job = await fixture.queue.getJob(id);
      expect(await job?.getState()).toBe("completed");
      expect(job?.returnvalue).toMatchObject({ email: { status: "sent" } });
    }
    expect(await fixture.queue.getActiveCount()).toBe(0);
    expect(worker.lines.some((line) => line.includes('"msg":"stopped"'))).toBe(true);
  }, 60_000);

  it("kill -9 of a worker in the middle of 200 notifications: a new worker delivers every one, none twice", async () => {
    const { resend, twilio } = await fakes(20);
    const fixture = await createTestQueue();
    cleanups.push(() => fixture.cleanup());
    const env = {
      REDIS_URL: redisUrl(),
      QUEUE_PREFIX: fixture.prefix,
      ...providerEnv(resend, twilio),
      RATE_LIMIT_PER_SECOND: "1000",
      EMAIL_RATE_LIMIT_PER_SECOND: "0",
      SMS_RATE_LIMIT_PER_SECOND: "0",
      WORKER_LOCK_DURATION_MS: "1000",
      WORKER_STALLED_INTERVAL_MS: "500",
    };
    const first = service("worker", env);
    await first.waitForLine(/worker ready/);
    const ids = Array.from({ length: 200 }, () => randomUUID());
    await fixture.queue.addBulk(
      ids.map((id, index) => ({
        name: "trade.executed",
        data: { ...VALID_NOTIFICATION, order: `kill-${index}` },
        opts: { ...notificationJobOptions({ attempts: 4, backoffDelayMs: 50 }), jobId: id },
      })),
    );
    await eventually(() => expect(resend.emails.length).toBeGreaterThan(50));
    expect(await first.stop("SIGKILL")).toBeNull();
    service("worker", env);

    await eventually(
      () => {
        expect(resend.emails).toHaveLength(200);
        expect(twilio.messages).toHaveLength(200);
      },
      { timeout: 30_000 },
    );
    await new Promise((resolve) => setTimeout(resolve, 500)); // room for a late duplicate
    expect(new Set(resend.emails.map((email) => email.idempotencyKey)).size).toBe(200);
    expect(new Set(twilio.messages.map((message) => message.body)).size).toBe(200);
    expect(resend.emails).toHaveLength(200);
    expect(twilio.messages).toHaveLength(200);
  }, 60_000);

  it.each([2, 4])(
    "%i workers draining one queue: each notification once, the global rate limit holds",
    async (workers) => {
      const { resend, twilio } = await fakes(10);
      const fixture = await createTestQueue();
      cleanups.push(() => fixture.cleanup());
      const perSecond = 40;
      const env = {
        REDIS_URL: redisUrl(),
        QUEUE_PREFIX: fixture.prefix,
        ...providerEnv(resend, twilio),
        RATE_LIMIT_PER_SECOND: String(perSecond),
        EMAIL_RATE_LIMIT_PER_SECOND: "0",
      };
      const started = Array.from({ length: workers }, () => service("worker", env));
      await Promise.all(started.map((worker) => worker.waitForLine(/worker ready/)));
      const total = 120;
      await fixture.queue.addBulk(
        Array.from({ length: total }, (_, index) => ({
          name: "trade.executed",
          data: { ...EMAIL_ONLY, order: `many-${index}` },
          opts: { ...notificationJobOptions(DEFAULT_JOB_SETTINGS), jobId: randomUUID() },
        })),
      );
      await eventually(() => expect(resend.emails).toHaveLength(total), { timeout: 30_000 });
      expect(new Set(resend.emails.map((email) => email.idempotencyKey)).size).toBe(total);
      expect(resend.calls).toHaveLength(total);
      const times = resend.calls.map((call) => call.at).sort((a, b) => a - b);
      // 120 jobs at 40 a second need at least two full windows after the first one started.
      expect((times.at(-1) ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(1900);
      // BullMQ's limiter windows start with the first job after the previous window ends: replay
      // that over the calls the provider saw. The limiter counts jobs as they start; a call reaches
      // the fake a few ms later, and with several workers on two cores one can land in the next
      // window, hence an allowance of a quarter.
      // The limiter counts jobs as they start: replay its windows (each starts with the first job
      // after the previous one ended) over the jobs' start times, across every worker. The provider
      // sees the same rate, a few ms later per call (its first calls later still, while each
      // worker's SDK warms up), so the check above is on the provider's clock and this one exact.
      // The provider has every call; the last jobs' completion writes follow a moment later.
      await eventually(async () => expect(await fixture.queue.getCompletedCount()).toBe(total));
      const jobsDone = await fixture.queue.getJobs(["completed"], 0, -1);
      const startedAt = jobsDone.map((job) => job.processedOn ?? 0).sort((a, b) => a - b);
      expect(startedAt).toHaveLength(total);
      let windowStart = startedAt[0] ?? 0;
      let inWindow = 0;
      for (const time of startedAt) {
        if (time >= windowStart + 1000) {
          windowStart = time;
          inWindow = 0;
        }
        inWindow += 1;
        expect(inWindow).toBeLessThanOrEqual(perSecond);
      }
    },
    // Up to four workers start at once on two cores (see waitForLine), then drain for seconds.
    120_000,
  );

  it("a provider down, then back: jobs wait and retry, none dropped; past the retries the failure is listed", async () => {
    const { resend, twilio } = await fakes();
    const fixture = await createTestQueue();
    cleanups.push(() => fixture.cleanup());
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env = { REDIS_URL: redisUrl(), QUEUE_PREFIX: fixture.prefix };
    // Retries after 0.5 s, 1 s and 2 s: 3.5 s of patience in all.
    const gateway = service("gateway", {
      ...env,
      PORT: String(port),
      API_KEYS: TEST_API_KEY,
      JOB_BACKOFF_DELAY_MS: "500",
    });
    service("worker", {
      ...env,
      ...providerEnv(resend, twilio),
      RATE_LIMIT_PER_SECOND: "1000",
      EMAIL_RATE_LIMIT_PER_SECOND: "0",
    });
    await waitForGatewayReady(gateway, port);
    const send = async (order: string) => {
      const response = await postNotification(base, { ...EMAIL_ONLY, order });
      expect(response.status).toBe(202);
      return ((await response.json()) as { id: string }).id;
    };
    const down = {
      status: 503,
      body: { statusCode: 503, name: "internal_server_error", message: "down" },
    };

    // Down for a while, then back: every notification is delivered.
    resend.script.failWith = () => down;
    const patient = await Promise.all(
      Array.from({ length: 10 }, (_, index) => send(`outage-${index}`)),
    );
    // Down until every notification has failed twice (a retry came and failed too), then back.
    await eventually(
      () =>
        expect(resend.calls.filter((call) => call.status === 503).length).toBeGreaterThanOrEqual(
          20,
        ),
      { timeout: 15_000 },
    );
    resend.script.failWith = undefined;
    await eventually(() => expect(resend.emails).toHaveLength(10), { timeout: 15_000 });
    // The outage was real: calls were answered 503 before the emails went out.
    expect(resend.calls.filter((call) => call.status === 503).length).toBeGreaterThanOrEqual(10);
    expect(new Set(resend.emails.map((email) => idOfEmailKey(email.idempotencyKey)))).toEqual(
      new Set(patient),
    );

    // Down for longer than the retries: the failure is visible in the status and the failed list.
    resend.script.failWith = () => down;
    const lost = await send("too-long");
    const auth = { authorization: `Bearer ${TEST_API_KEY}` };
    const failed = await eventually(
      async () => {
        const list = (await (
          await fetch(`${base}/notifications?state=failed`, { headers: auth })
        ).json()) as {
          items: Array<{
            id: string;
            attemptsMade: number;
            channels: { email: { status: string; error?: { code: string } } };
          }>;
        };
        expect(list.items.map((item) => item.id)).toEqual([lost]);
        return list.items[0];
      },
      { timeout: 15_000 },
    );
    expect(failed?.attemptsMade).toBe(4);
    expect(failed?.channels.email).toMatchObject({
      status: "failed",
      error: { code: "internal_server_error" },
    });

    // Back again: a retry from the API delivers it.
    resend.script.failWith = undefined;
    expect(
      (await fetch(`${base}/notifications/${lost}/retry`, { method: "POST", headers: auth }))
        .status,
    ).toBe(202);
    await eventually(() =>
      expect(resend.emails.map((email) => idOfEmailKey(email.idempotencyKey))).toContain(lost),
    );
  }, 60_000);
});
