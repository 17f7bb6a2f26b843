import { randomUUID } from "node:crypto";
import { Queue } from "bullmq";
import { NOTIFICATION_QUEUE, notificationJobOptions } from "../contract/notification-job.js";
import { DEFAULT_JOB_SETTINGS } from "../lib/env.js";
import { type FakeEmail, startFakeResend } from "../test/fakes/resend.js";
import { startFakeTwilio } from "../test/fakes/twilio.js";
import { type Fakes, startWorker } from "./delivery.js";
import { NOTIFICATION } from "./intake.js";
import { startCommandCounter } from "./redis-commands.js";
import { redisMemoryPer } from "./redis-memory.js";
import { type BuiltProcess, median, round, sleep, startRedis } from "./support.js";

/** Resend's default team limit, enforced by the fake and respected by the worker. */
export const RESEND_REQUESTS_PER_SECOND = 2;

/**
 * The worker's settings for a drain. The provider limit is the seed's (2 Resend calls a second)
 * and batches hold up to 100 emails; EMAIL_BATCH_WINDOW_MS keeps its default. WORKER_CONCURRENCY
 * and RATE_LIMIT_PER_SECOND are raised: a batch can only be as large as the jobs one worker holds
 * at once (5 by default), and the queue's global limiter (the seed's 10 jobs a second, still the
 * default) would cap the drain at 10 emails a second whatever the batch size.
 * EMAIL_RATE_LIMIT_PER_SECOND is what protects Resend.
 */
export const DRAIN_WORKER_ENV = {
  WORKER_CONCURRENCY: "200",
  RATE_LIMIT_PER_SECOND: "1000",
  EMAIL_RATE_LIMIT_PER_SECOND: String(RESEND_REQUESTS_PER_SECOND),
  EMAIL_BATCH_SIZE: "100",
};

/** Short locks and stall checks, so the jobs a killed worker held are recovered in seconds. */
export const KILL_RUN_ENV = {
  WORKER_LOCK_DURATION_MS: "4000",
  WORKER_STALLED_INTERVAL_MS: "1000",
};

/** Emails per recipient as the fake Resend accepts them, read incrementally. */
function tallyOf(emails: FakeEmail[]) {
  const byRecipient = new Map<string, number>();
  let read = 0;
  let lastAt = 0;
  return {
    /** Reads the emails accepted since the last call; answers how many recipients got one. */
    update(): number {
      for (; read < emails.length; read++) {
        const email = emails[read];
        if (!email) continue;
        byRecipient.set(email.to, (byRecipient.get(email.to) ?? 0) + 1);
        lastAt = Math.max(lastAt, email.receivedAt);
      }
      return byRecipient.size;
    },
    byRecipient,
    get lastAt() {
      return lastAt;
    },
  };
}

/** `count` email-only notifications, each to its own recipient, added while no worker runs. */
async function addWaiting(queue: Queue, count: number): Promise<string[]> {
  const { phone: _phone, ...emailOnly } = NOTIFICATION;
  const options = notificationJobOptions(DEFAULT_JOB_SETTINGS);
  const recipients = Array.from({ length: count }, (_, i) => `drain-${i}@example.com`);
  for (let start = 0; start < count; start += 1000) {
    await queue.addBulk(
      recipients.slice(start, start + 1000).map((to, offset) => ({
        name: "trade.executed",
        data: { ...emailOnly, to, order: `drain-order-${start + offset}` },
        opts: { ...options, jobId: randomUUID() },
      })),
    );
  }
  return recipients;
}

/** Jobs not finished yet (waiting, running, delayed for a provider wait or a retry). */
async function unfinished(queue: Queue): Promise<number> {
  const counts = await queue.getJobCounts("wait", "active", "delayed", "prioritized");
  return Object.values(counts).reduce((sum, n) => sum + n, 0);
}

/**
 * One drain: `count` waiting email notifications, a fake Resend that answers 429 above
 * 2 requests in any second, and one built worker; with `kill`, that worker is SIGKILLed once
 * half of the recipients have their email and a second one is started at once.
 */
export async function drainOnce(options: {
  count: number;
  kill: boolean;
  countCommands?: boolean;
  /** Redis memory per email by kind of key, read once the drain is over. */
  measureMemory?: boolean;
  /** Worker settings on top of DRAIN_WORKER_ENV. */
  env?: Record<string, string>;
  /** No limit at the fake or in the worker: what one worker itself can send. */
  unlimited?: boolean;
}) {
  const redis = await startRedis();
  const fakes: Fakes = {
    resend: await startFakeResend(
      options.unlimited ? {} : { requestsPerSecond: RESEND_REQUESTS_PER_SECOND },
    ),
    twilio: await startFakeTwilio(),
  };
  const queue = new Queue(NOTIFICATION_QUEUE, { connection: { url: redis.url } });
  const workers: BuiltProcess[] = [];
  let counter: Awaited<ReturnType<typeof startCommandCounter>> | undefined;
  try {
    const recipients = await addWaiting(queue, options.count);
    // MONITOR starts while nothing else talks to Redis (a reply racing it confuses ioredis).
    if (options.countCommands) counter = await startCommandCounter(redis.url);
    const env = {
      ...DRAIN_WORKER_ENV,
      ...(options.kill ? KILL_RUN_ENV : {}),
      ...(options.unlimited ? { EMAIL_RATE_LIMIT_PER_SECOND: "0" } : {}),
      ...options.env,
    };
    const tally = tallyOf(fakes.resend.emails);
    // At least 10 emails a second, or the drain is reported with what it had not sent by then.
    const deadline = Date.now() + 60_000 + (options.count / 10) * 1000;
    const started = Date.now();
    workers.push(await startWorker(redis.url, fakes, env));
    let killedAfter: number | undefined;
    if (options.kill) {
      while (tally.update() < options.count / 2 && Date.now() < deadline) await sleep(2);
      killedAfter = tally.update();
      await workers[0]?.stop("SIGKILL");
      // A platform restarts the crashed worker: the second one starts at once.
      workers.push(await startWorker(redis.url, fakes, env));
    }
    let finished = false;
    while (!finished && Date.now() <= deadline) {
      finished = tally.update() >= options.count && (await unfinished(queue)) === 0;
      if (!finished) await sleep(50);
    }
    // Late answers of the last calls: nothing may arrive after the queue is empty.
    await sleep(500);
    tally.update();
    const commands = counter?.total ?? 0;
    const counts = await queue.getJobCounts("completed", "failed");
    const seconds = (tally.lastAt - started) / 1000;
    const emailed = recipients.filter((to) => tally.byRecipient.has(to)).length;
    const duplicateEmails = [...tally.byRecipient.values()].reduce(
      (sum, n) => sum + Math.max(0, n - 1),
      0,
    );
    const accepted = fakes.resend.calls.filter((call) => call.status === 200);
    const keys = accepted.map((call) => call.idempotencyKey ?? "");
    const batchSizes = accepted.map((call) => call.batchSize ?? 1);
    const memory = options.measureMemory
      ? await redisMemoryPer(redis.url, options.count)
      : undefined;
    return {
      notifications: options.count,
      /** False when the deadline came first: `lost` then counts those not sent by then. */
      finished,
      seconds: round(seconds, 1),
      emailsPerSecond: round(emailed / seconds, 1),
      duplicates: duplicateEmails,
      lost: options.count - emailed,
      rateLimited429: fakes.resend.calls.filter((call) => call.status === 429).length,
      providerRequests: fakes.resend.calls.length,
      medianBatchSize: median(batchSizes),
      /** Calls that re-sent a batch under a key already answered (a retry after the kill). */
      replayedBatches: keys.length - new Set(keys).size,
      jobsCompleted: counts.completed ?? 0,
      jobsFailed: counts.failed ?? 0,
      ...(killedAfter === undefined ? {} : { killedAfterEmails: killedAfter }),
      ...(counter ? { redisCommandsPerEmail: round(commands / options.count, 1) } : {}),
      ...(counter ? { redisCommandsByName: { ...counter.byCommand } } : {}),
      ...(memory ? { redisBytesPerEmail: memory } : {}),
    };
  } finally {
    counter?.stop();
    await Promise.all(workers.map((worker) => worker.stop("SIGKILL")));
    await queue.close();
    await Promise.all([fakes.resend.close(), fakes.twilio.close()]);
    await redis.stop();
  }
}

/**
 * The old way, side by side: one email per Resend request (EMAIL_BATCH_SIZE=1), same limits and
 * worker, for a fixed time; emails accepted from the worker's spawn to the end of the window.
 */
export async function measureUnbatchedRate(seconds: number) {
  const redis = await startRedis();
  const fakes: Fakes = {
    resend: await startFakeResend({ requestsPerSecond: RESEND_REQUESTS_PER_SECOND }),
    twilio: await startFakeTwilio(),
  };
  const queue = new Queue(NOTIFICATION_QUEUE, { connection: { url: redis.url } });
  let worker: BuiltProcess | undefined;
  try {
    await addWaiting(queue, Math.ceil(seconds * RESEND_REQUESTS_PER_SECOND * 3));
    const started = Date.now();
    worker = await startWorker(redis.url, fakes, { ...DRAIN_WORKER_ENV, EMAIL_BATCH_SIZE: "1" });
    await sleep(started + seconds * 1000 - Date.now());
    const end = started + seconds * 1000;
    const sent = fakes.resend.emails.filter((email) => email.receivedAt <= end).length;
    return {
      seconds,
      emails: sent,
      emailsPerSecond: round(sent / seconds, 2),
      rateLimited429: fakes.resend.calls.filter((call) => call.status === 429).length,
    };
  } finally {
    await worker?.stop("SIGKILL");
    await queue.close();
    await Promise.all([fakes.resend.close(), fakes.twilio.close()]);
    await redis.stop();
  }
}

/** The drain, without and with a worker killed half-way, and the unbatched rate beside them. */
export async function measureDrain(options: { notifications: number; baselineSeconds: number }) {
  const count = options.notifications;
  const steady = await drainOnce({ count, kill: false, countCommands: true, measureMemory: true });
  const killed = await drainOnce({ count, kill: true });
  const unbatched = await measureUnbatchedRate(options.baselineSeconds);
  // The worker's own ceiling, no provider limit anywhere: the first thing to scale past Resend's.
  const unlimited = await drainOnce({ count, kill: false, unlimited: true });
  return {
    workerEnv: DRAIN_WORKER_ENV,
    killRunEnv: KILL_RUN_ENV,
    steady,
    killed,
    unbatched,
    unlimited,
    batchedOfUnbatched: round(steady.emailsPerSecond / unbatched.emailsPerSecond, 1),
  };
}
