import { randomUUID } from "node:crypto";
import { Queue, Worker } from "bullmq";
import { NOTIFICATION_QUEUE, notificationJobOptions } from "../contract/notification-job.js";
import { DEFAULT_JOB_SETTINGS } from "../lib/env.js";
import { bundleEntry } from "../scripts/bundle.js";
import { freePort } from "../scripts/redis-server.js";
import { type FakeCall, startFakeResend } from "../test/fakes/resend.js";
import { startFakeTwilio } from "../test/fakes/twilio.js";
import { BENCH_API_KEY, NOTIFICATION, startGateway, waitUntilReady } from "./intake.js";
import { startCommandCounter } from "./redis-commands.js";
import {
  BARE_ROUTE,
  type BuiltProcess,
  GATEWAY_BUNDLE,
  median,
  percentile,
  round,
  sleep,
  startBuilt,
  startRedis,
  WORKER_BUNDLE,
} from "./support.js";

export type Fakes = {
  resend: Awaited<ReturnType<typeof startFakeResend>>;
  twilio: Awaited<ReturnType<typeof startFakeTwilio>>;
};

/** The reference worker: BullMQ and the resend SDK alone. */
const BARE_WORKER = "bench/bare-worker.mjs";

async function startFakes(latencyMs = 0): Promise<Fakes> {
  return { resend: await startFakeResend({ latencyMs }), twilio: await startFakeTwilio() };
}

/** A built worker pointed at the fakes, without rate limits unless asked. */
export async function startWorker(
  redisUrl: string,
  fakes: Fakes,
  env: Record<string, string> = {},
  file = WORKER_BUNDLE,
) {
  const port = await freePort();
  const worker = startBuilt(file, {
    REDIS_URL: redisUrl,
    WORKER_HEALTH_PORT: String(port),
    RESEND_API_KEY: fakes.resend.apiKey,
    RESEND_BASE_URL: fakes.resend.url,
    EMAIL_FROM: "Bench <bench@example.com>",
    TWILIO_ACCOUNT_SID: fakes.twilio.accountSid,
    TWILIO_AUTH_TOKEN: fakes.twilio.authToken,
    TWILIO_FROM: "+15005550006",
    TWILIO_API_BASE_URL: fakes.twilio.url,
    RATE_LIMIT_PER_SECOND: "100000",
    EMAIL_RATE_LIMIT_PER_SECOND: "0",
    SMS_RATE_LIMIT_PER_SECOND: "0",
    ...env,
  });
  await waitUntilReady(`http://127.0.0.1:${port}/healthz`, worker);
  return worker;
}

async function post(url: string, body: object = NOTIFICATION): Promise<string> {
  const response = await fetch(`${url}/notifications`, {
    method: "POST",
    headers: { authorization: `Bearer ${BENCH_API_KEY}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (response.status !== 202) throw new Error(`POST answered ${response.status}`);
  return ((await response.json()) as { id: string }).id;
}

export async function until(condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out waiting for the fake providers");
    await sleep(2);
  }
}

/**
 * Accepted (202 received) → the fake Resend receives the email, for notifications sent one at a
 * time, through the gateway and a worker with its default (long) drain delay and `workerEnv`.
 */
async function pickupLatencies(
  redisUrl: string,
  count: number,
  workerEnv: Record<string, string> = {},
): Promise<number[]> {
  const fakes = await startFakes();
  const processes: BuiltProcess[] = [];
  try {
    const { gateway, url } = await startGateway(redisUrl);
    processes.push(gateway);
    processes.push(await startWorker(redisUrl, fakes, workerEnv));
    // Warm-up: JIT, the SDKs' first connections to the fakes.
    for (let i = 0; i < 5; i++) await post(url);
    await until(() => fakes.resend.emails.length >= 5);
    const latencies: number[] = [];
    for (let i = 0; i < count; i++) {
      const id = await post(url);
      const accepted = Date.now();
      // The email's idempotency key is `<deployment>/<notification id>/<job timestamp>/email`.
      const isThis = (call: FakeCall) => call.idempotencyKey?.includes(`/${id}/`) === true;
      await until(() => fakes.resend.calls.some(isThis));
      latencies.push((fakes.resend.calls.find(isThis)?.at ?? accepted) - accepted);
      await sleep(20);
    }
    return latencies;
  } finally {
    await Promise.all(processes.map((process) => process.stop()));
    await Promise.all([fakes.resend.close(), fakes.twilio.close()]);
  }
}

/**
 * Pickup with the worker's defaults (a lone email waits EMAIL_BATCH_WINDOW_MS for company), the
 * same with batches off (EMAIL_BATCH_SIZE=1), and BullMQ alone: queue.add resolved → an
 * in-process Worker's processor starts.
 */
export async function measurePickup(options: { count: number }) {
  const redis = await startRedis();
  try {
    const latencies = await pickupLatencies(redis.url, options.count);
    const unbatched = await pickupLatencies(redis.url, options.count, { EMAIL_BATCH_SIZE: "1" });
    const rawLatencies = await bullmqAloneLatencies(redis.url, options.count);
    return {
      count: options.count,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      batchesOffP50Ms: percentile(unbatched, 50),
      batchesOffP99Ms: percentile(unbatched, 99),
      bullmqAloneP50Ms: percentile(rawLatencies, 50),
      bullmqAloneP99Ms: percentile(rawLatencies, 99),
    };
  } finally {
    await redis.stop();
  }
}

/** BullMQ alone, BullMQ's defaults: queue.add resolved → an in-process Worker's processor starts. */
async function bullmqAloneLatencies(redisUrl: string, count: number): Promise<number[]> {
  const queue = new Queue("bench-raw", { connection: { url: redisUrl } });
  const started = new Map<string, number>();
  const raw = new Worker("bench-raw", async (job) => void started.set(String(job.id), Date.now()), {
    connection: { url: redisUrl },
    concurrency: 5,
  });
  try {
    await raw.waitUntilReady();
    const latencies: number[] = [];
    for (let i = 0; i < count; i++) {
      const id = randomUUID();
      await queue.add("raw", NOTIFICATION, { jobId: id });
      const added = Date.now();
      await until(() => started.has(id));
      latencies.push((started.get(id) ?? added) - added);
      await sleep(20);
    }
    return latencies;
  } finally {
    await raw.close();
    await queue.close();
  }
}

/** Jobs per second that `workers` worker processes deliver against a provider answering in 50 ms. */
async function workerThroughput(
  workers: number,
  jobsPerWorker: number,
  env: Record<string, string> = {},
  file = WORKER_BUNDLE,
) {
  const redis = await startRedis();
  const fakes = await startFakes(50);
  const processes: BuiltProcess[] = [];
  try {
    for (let i = 0; i < workers; i++)
      processes.push(
        await startWorker(redis.url, fakes, { WORKER_CONCURRENCY: "5", ...env }, file),
      );
    const rssIdle = processes[0]?.rssMiB() ?? 0;
    const queue = new Queue(NOTIFICATION_QUEUE, { connection: { url: redis.url } });
    const { phone: _phone, ...emailOnly } = NOTIFICATION;
    const total = workers * jobsPerWorker;
    const options = notificationJobOptions(DEFAULT_JOB_SETTINGS);
    await queue.addBulk(
      Array.from({ length: total }, () => ({
        name: "trade.executed",
        data: emailOnly,
        opts: { ...options, jobId: randomUUID() },
      })),
    );
    await until(() => fakes.resend.emails.length >= total, 120_000);
    await queue.close();
    const calls = [...fakes.resend.calls].sort((a, b) => a.at - b.at);
    const seconds = ((calls.at(-1)?.at ?? 0) - (calls[0]?.at ?? 0)) / 1000;
    // The emails that arrived after the first call, over the time from the first call to the last:
    // the first call's emails took none of that time (total - 1 when a call carries one email; a
    // first batch of 5 would otherwise add 4 emails for free).
    const afterFirst = total - (calls[0]?.batchSize ?? 1);
    return { jobsPerSecond: afterFirst / seconds, rssIdle, rssAfter: processes[0]?.rssMiB() ?? 0 };
  } finally {
    await Promise.all(processes.map((process) => process.stop()));
    await Promise.all([fakes.resend.close(), fakes.twilio.close()]);
    await redis.stop();
  }
}

/**
 * Worker efficiency (1 worker vs the ideal 5 ÷ 0.05 s) and scaling over 1, 2 and 4 workers, with
 * the worker's defaults (batches on); beside them, 1 worker with batches off (EMAIL_BATCH_SIZE=1),
 * the one call per job that the ideal assumes; and a bare BullMQ worker that only calls the resend
 * SDK (`bench/bare-worker.mjs`), the ceiling of the stack itself against the same fake.
 */
export async function measureWorkers(options: { jobsPerWorker: number; rounds: number }) {
  const runs: Record<number, number[]> = { 1: [], 2: [], 4: [] };
  const unbatched: number[] = [];
  const bare: number[] = [];
  let rss = { idle: 0, after: 0 };
  for (let round = 0; round < options.rounds; round++) {
    for (const workers of [1, 2, 4]) {
      const result = await workerThroughput(workers, options.jobsPerWorker);
      runs[workers]?.push(result.jobsPerSecond);
      if (workers === 1) rss = { idle: result.rssIdle, after: result.rssAfter };
    }
    const off = await workerThroughput(1, options.jobsPerWorker, { EMAIL_BATCH_SIZE: "1" });
    unbatched.push(off.jobsPerSecond);
    const ceiling = await workerThroughput(1, options.jobsPerWorker, {}, BARE_WORKER);
    bare.push(ceiling.jobsPerSecond);
  }
  const one = median(runs[1] ?? []);
  return {
    batchesOffJobsPerSecond: unbatched.map((x) => round(x, 1)),
    batchesOffEfficiency: round(median(unbatched) / (5 / 0.05)),
    bareWorkerJobsPerSecond: bare.map((x) => round(x, 1)),
    bareWorkerEfficiency: round(median(bare) / (5 / 0.05)),
    ofBareWorker: round(one / median(bare)),
    batchesOffOfBareWorker: round(median(unbatched) / median(bare)),
    jobsPerSecond: Object.fromEntries(
      Object.entries(runs).map(([k, v]) => [k, v.map((x) => round(x, 1))]),
    ),
    efficiency: round(one / (5 / 0.05)),
    scaling2: round(median(runs[2] ?? []) / one),
    scaling4: round(median(runs[4] ?? []) / one),
    workerRssIdleMiB: rss.idle,
    workerRssAfterMiB: rss.after,
  };
}

/** A private Redis, the fakes, the built gateway and one built worker; `stop` ends them all. */
async function startStack(workerEnv: Record<string, string> = {}) {
  const redis = await startRedis();
  const fakes = await startFakes();
  const { gateway, url } = await startGateway(redis.url);
  const worker = await startWorker(redis.url, fakes, workerEnv);
  return {
    redis,
    fakes,
    url,
    async stop() {
      await Promise.all([gateway.stop(), worker.stop()]);
      await Promise.all([fakes.resend.close(), fakes.twilio.close()]);
      await redis.stop();
    },
  };
}

/** Client-sent Redis commands per email + SMS notification, intake and delivery included. */
export async function measureCommandsPerNotification(count: number) {
  // The production defaults: the queue's limiter and both providers' limits on.
  const stack = await startStack({
    RATE_LIMIT_PER_SECOND: "10",
    EMAIL_RATE_LIMIT_PER_SECOND: "2",
    SMS_RATE_LIMIT_PER_SECOND: "10",
  });
  const { fakes } = stack;
  const counter = await startCommandCounter(stack.redis.url);
  try {
    await sleep(200);
    counter.reset();
    for (let i = 0; i < count; i++) {
      await post(stack.url);
      await until(() => fakes.twilio.messages.length > i && fakes.resend.emails.length > i);
    }
    await sleep(200); // the last job's completion write
    return {
      perNotification: round(counter.total / count, 1),
      byCommand: { ...counter.byCommand },
    };
  } finally {
    counter.stop();
    await stack.stop();
  }
}

/** Client-sent Redis commands of an idle gateway and worker, extrapolated to an hour. */
export async function measureIdleCommands(seconds: number) {
  const stack = await startStack();
  await sleep(3000);
  const counter = await startCommandCounter(stack.redis.url);
  try {
    await sleep(seconds * 1000);
    return {
      seconds,
      perHour: Math.round((counter.total * 3600) / seconds),
      byCommand: { ...counter.byCommand },
    };
  } finally {
    counter.stop();
    await stack.stop();
  }
}

/** Spawn → first 202 for the gateway, against spawn → first 200 for a bare Hono hello-world. */
export async function measureColdStart(rounds: number) {
  const redis = await startRedis();
  const gatewayMs: number[] = [];
  const helloMs: number[] = [];
  const bareMs: number[] = [];
  const bundledBareMs: number[] = [];
  // The bare route bundled as the gateway is: how much of the gateway's lead is the bundling.
  await bundleEntry(BARE_ROUTE, "dist/bench", "bare-intake-server");
  try {
    for (let round = 0; round < rounds; round++) {
      gatewayMs.push(await timeToFirst202(redis.url, GATEWAY_BUNDLE));
      helloMs.push(await timeToFirstHello());
      // A bare Hono + zod + BullMQ route: the share of the cold start that is BullMQ, ioredis and the Redis handshake.
      bareMs.push(await timeToFirst202(redis.url, BARE_ROUTE));
      bundledBareMs.push(await timeToFirst202(redis.url, "dist/bench/bare-intake-server.mjs"));
    }
  } finally {
    await redis.stop();
  }
  return {
    gatewayMs: gatewayMs.map((ms) => round(ms, 0)),
    helloWorldMs: helloMs.map((ms) => round(ms, 0)),
    bareQueueRouteMs: bareMs.map((ms) => round(ms, 0)),
    bundledBareQueueRouteMs: bundledBareMs.map((ms) => round(ms, 0)),
    gatewayOfBundledBareQueueRoute: round(median(gatewayMs) / median(bundledBareMs)),
    gatewayOfBareQueueRoute: round(median(gatewayMs) / median(bareMs)),
    ratio: round(median(gatewayMs) / median(helloMs)),
  };
}

async function firstSuccess(send: () => Promise<Response>, expected: number): Promise<void> {
  for (;;) {
    try {
      if ((await send()).status === expected) return;
    } catch {
      // not listening yet
    }
    await sleep(5);
  }
}

async function timeToFirst202(redisUrl: string, file: string): Promise<number> {
  const port = await freePort();
  const started = performance.now();
  const gateway = startBuilt(file, {
    REDIS_URL: redisUrl,
    PORT: String(port),
    API_KEYS: BENCH_API_KEY,
    METRICS_PORT: "0",
  });
  await firstSuccess(
    () =>
      fetch(`http://127.0.0.1:${port}/notifications`, {
        method: "POST",
        headers: { authorization: `Bearer ${BENCH_API_KEY}`, "content-type": "application/json" },
        body: JSON.stringify(NOTIFICATION),
      }),
    202,
  );
  const elapsed = performance.now() - started;
  await gateway.stop();
  return elapsed;
}

async function timeToFirstHello(): Promise<number> {
  const port = await freePort();
  const started = performance.now();
  const hello = startBuilt("bench/hello-server.mjs", { PORT: String(port) });
  await firstSuccess(() => fetch(`http://127.0.0.1:${port}/`), 200);
  const elapsed = performance.now() - started;
  await hello.stop();
  return elapsed;
}
