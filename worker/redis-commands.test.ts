import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import type { BatchSettings } from "../channels/provider-setup.js";
import { notificationJobOptions, TRADE_EXECUTED_JOB } from "../contract/notification-job.js";
import { redisUrl } from "../test/fixtures.js";
import { VALID_NOTIFICATION } from "../test/gateway-fixture.js";
import { startWorkerHarness, type WorkerHarness, waitForFinished } from "../test/worker-fixture.js";

let harness: WorkerHarness;
let monitor: { client: Redis; watching: Redis } | undefined;
/** Client-sent commands naming this harness's keys: the command and the first such key's kind. */
let seen: string[];

/** A worker harness whose other clients' commands `seen` collects (Redis MONITOR). */
async function watchedHarness(emailBatch?: BatchSettings): Promise<void> {
  // Both providers limited, as in production: each channel takes a provider slot.
  harness = await startWorkerHarness({
    emailPerSecond: 2,
    smsPerSecond: 10,
    ...(emailBatch ? { emailBatch } : {}),
  });
  seen = [];
  // The test's own reads (waiting for the job to finish) are left out: only other clients count.
  const info = String(await harness.redis.client("INFO"));
  const testClient = /addr=(\S+)/.exec(info)?.[1];
  const keyPrefix = `${harness.prefix}:notifications:`;
  const client = new Redis(redisUrl(), { lazyConnect: true });
  const watching = await client.monitor();
  monitor = { client, watching };
  watching.on("monitor", (_time: string, args: string[], source: string) => {
    // A script's own calls come from "lua".
    if (source === "lua" || source === testClient) return;
    const named = args.find((arg) => arg.startsWith(keyPrefix));
    if (!named) return;
    const rest = named.slice(keyPrefix.length);
    const kind = /^[0-9a-f]{8}-/.test(rest) ? "job" : (/^[a-z-]+/.exec(rest)?.[0] ?? "");
    seen.push(`${args[0]?.toLowerCase()} ${kind}`);
  });
}
afterEach(async () => {
  monitor?.watching.disconnect();
  monitor?.client.disconnect();
  monitor = undefined;
  await harness.stop();
});

/**
 * BullMQ's own: the job's add, its fetches (wait list), blocking waits (marker), its progress
 * and completion (the job's hash).
 */
const BULLMQ_KINDS = new Set(["wait", "marker", "job"]);

/**
 * Delivers one email + SMS notification and lists the worker's own commands, by the kind of key
 * each names. The first call of each script on a connection is an EVAL (which loads it), later
 * ones EVALSHA: both read "eval".
 */
async function ownCommandsOfOneNotification(): Promise<string[]> {
  const id = crypto.randomUUID();
  await harness.queue.add(TRADE_EXECUTED_JOB, VALID_NOTIFICATION, {
    ...notificationJobOptions({ attempts: 4, backoffDelayMs: 20 }),
    jobId: id,
  });
  const job = await waitForFinished(harness.queue, id);
  expect(await job.getState()).toBe("completed");
  expect(harness.twilio.messages).toHaveLength(1);
  expect(harness.resend.emails).toHaveLength(1);
  return seen
    .filter((command) => !BULLMQ_KINDS.has(command.split(" ")[1] ?? ""))
    .map((command) => command.replace(/^evalsha /, "eval "));
}

describe("Redis commands of one email + SMS notification", () => {
  // Email and SMS go at once, so their commands interleave: compared as sorted lists.
  it("sends the worker's own: the try's opening, the SMS's look-alike set and claim, the delivery record", async () => {
    await watchedHarness();
    expect((await ownCommandsOfOneNotification()).sort()).toEqual(
      [
        "eval suppressions", // suppressions and both providers' slots
        "eval in-flight", // the SMS joins its look-alike set…
        "eval provider-id", // …claims its provider id…
        "srem in-flight", // …and leaves the set
        "eval delivery", // the delivery record
        "eval delivery", // a direct producer's job, indexed for search unless recorded before
      ].sort(),
    );
  });

  it("with batches on (the default), adds the lone email's slot and its batch's record", async () => {
    await watchedHarness({ maxSize: 100 });
    expect((await ownCommandsOfOneNotification()).sort()).toEqual(
      [
        "eval suppressions", // suppressions and the SMS's slot
        "eval provider", // the batch's slot
        "eval suppressions", // its members checked again, its record and pointers written
        "eval in-flight",
        "eval provider-id",
        "srem in-flight",
        "eval delivery",
        "eval delivery",
      ].sort(),
    );
  });
});
