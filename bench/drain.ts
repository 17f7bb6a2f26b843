import { randomUUID } from "node:crypto";
import { Queue } from "bullmq";
import { NOTIFICATION_QUEUE, notificationJobOptions } from "../contract/notification-job.js";
import { DEFAULT_JOB_SETTINGS } from "../lib/env.js";
import { redisBytesPer } from "./redis-usage.js";
import { NOTIFICATION, round, sleep, startFakes, startRedis, startWorker } from "./support.js";

/** Email-only notifications to `recipients`, one each, added as a backend adds them. */
export async function addEmails(queue: Queue, recipients: string[]): Promise<void> {
  const { phone: _phone, ...emailOnly } = NOTIFICATION;
  const options = notificationJobOptions(DEFAULT_JOB_SETTINGS);
  for (let start = 0; start < recipients.length; start += 1000) {
    await queue.addBulk(
      recipients.slice(start, start + 1000).map((to, offset) => ({
        name: "trade.executed",
        data: { ...emailOnly, to, order: `order-${start + offset}` },
        opts: { ...options, jobId: randomUUID() },
      })),
    );
  }
}

/** Jobs not finished yet (waiting, running, delayed for a provider wait or a retry). */
async function unfinished(queue: Queue): Promise<number> {
  const counts = await queue.getJobCounts("wait", "active", "delayed", "prioritized");
  return Object.values(counts).reduce((sum, n) => sum + n, 0);
}

/**
 * A backlog of `count` waiting emails drained by one built worker with its defaults, the fake
 * Resend answering 429 above 2 requests in any second. With `kill`, the worker is SIGKILLed
 * half-way and a second one started at once, as a platform restarts a crashed process.
 * The drain gives up at a deadline that allows `floorPerSecond` ÷ 3 emails a second (plus
 * `recoveryMs` after a kill): a drain that slow misses its target whatever it would have taken.
 */
export async function measureDrain(options: {
  count: number;
  kill: boolean;
  floorPerSecond: number;
  recoveryMs: number;
}) {
  const redis = await startRedis();
  const fakes = await startFakes();
  const queue = new Queue(NOTIFICATION_QUEUE, { connection: { url: redis.url } });
  const workers = [];
  try {
    const recipients = Array.from({ length: options.count }, (_, i) => `drain-${i}@example.com`);
    await addEmails(queue, recipients);
    const allowanceMs = 30_000 + (options.count / (options.floorPerSecond / 3)) * 1000;
    const started = Date.now();
    const deadline = started + allowanceMs + (options.kill ? options.recoveryMs : 0);
    /** The first arrival at the fake of each recipient's email. */
    const firstAt = new Map<string, number>();
    const sent = () => {
      for (const email of fakes.resend.emails) {
        if (!firstAt.has(email.to)) firstAt.set(email.to, email.receivedAt);
      }
      return firstAt.size;
    };
    workers.push(await startWorker(redis.url, fakes));
    const rssIdleMiB = workers[0]?.rssMiB() ?? 0;
    let kill: { at: number; afterEmails: number; pending: string[] } | undefined;
    if (options.kill) {
      while (sent() < options.count / 2 && Date.now() < started + allowanceMs / 2) await sleep(2);
      const at = Date.now();
      await workers[0]?.stop("SIGKILL");
      const afterEmails = sent();
      // Nothing runs jobs now: the active ones are the jobs the killed worker held.
      const held = await queue.getActive();
      const pending = held.map((job) => String(job.data.to)).filter((to) => !firstAt.has(to));
      kill = { at, afterEmails, pending };
      workers.push(await startWorker(redis.url, fakes));
    }
    let finished = false;
    while (!finished && Date.now() < deadline) {
      finished = sent() >= options.count && (await unfinished(queue)) === 0;
      if (!finished) await sleep(50);
    }
    // Late answers of the last calls: nothing may arrive once the queue is empty.
    await sleep(500);
    sent();
    const perRecipient = new Map<string, number>();
    for (const email of fakes.resend.emails) {
      perRecipient.set(email.to, (perRecipient.get(email.to) ?? 0) + 1);
    }
    const emailed = recipients.filter((to) => firstAt.has(to)).length;
    const lastAt = Math.max(...firstAt.values());
    const seconds = (lastAt - started) / 1000;
    const interruptedAt = kill?.pending.map((to) => firstAt.get(to) ?? Number.POSITIVE_INFINITY);
    return {
      count: options.count,
      /** False when the deadline came first: `lost` then counts the emails not sent by then. */
      finished,
      seconds: round(seconds, 1),
      emailsPerSecond: round(emailed / seconds, 1),
      duplicates: [...perRecipient.values()].reduce((sum, n) => sum + n - 1, 0),
      lost: options.count - emailed,
      providerRequests: fakes.resend.calls.length,
      rateLimited429: fakes.resend.calls.filter((call) => call.status === 429).length,
      workerRssIdleMiB: rssIdleMiB,
      workerRssAfterMiB: workers.at(-1)?.rssMiB() ?? 0,
      kill: kill && {
        afterEmails: kill.afterEmails,
        heldUnsent: kill.pending.length,
        /** Kill → the last email the killed worker held goes out; Infinity: not by the deadline. */
        lastHeldSeconds: round((Math.max(kill.at, ...(interruptedAt ?? [])) - kill.at) / 1000, 1),
      },
      redisBytesPerEmail: kill ? undefined : await redisBytesPer(redis.url, options.count),
    };
  } finally {
    await Promise.all(workers.map((worker) => worker.stop("SIGKILL")));
    await queue.close();
    await Promise.all([fakes.resend.close(), fakes.twilio.close()]);
    await redis.stop();
  }
}
