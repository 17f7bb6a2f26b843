import { randomUUID } from "node:crypto";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import {
  NOTIFICATION_QUEUE,
  notificationJobOptions,
  TRADE_EXECUTED_JOB,
} from "../contract/notification-job.js";
import { DEFAULT_JOB_SETTINGS } from "../lib/env.js";
import { median, NOTIFICATION, round, runWrk, startGateway } from "./support.js";

/** The bare reference: what Hono, zod and BullMQ alone take on this machine. */
const BARE_ROUTE = "bench/bare-intake-server.mjs";
/** Concurrent `queue.add` loops, as many as wrk's connections. */
const LOOPS = 32;

/** `queue.add` from 32 concurrent loops in this process: what a backend calling BullMQ gets. */
async function rawAddRate(queue: Queue, seconds: number): Promise<number> {
  const options = notificationJobOptions(DEFAULT_JOB_SETTINGS);
  const end = Date.now() + seconds * 1000;
  let added = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: LOOPS }, async () => {
      while (Date.now() < end) {
        await queue.add(TRADE_EXECUTED_JOB, NOTIFICATION, { ...options, jobId: randomUUID() });
        added += 1;
      }
    }),
  );
  return added / ((performance.now() - started) / 1000);
}

/**
 * 2xx answers a second of the built gateway, the bare route and raw `queue.add`, in rounds on
 * one Redis flushed between runs; every other round in the reverse order, since this machine's
 * speed drifts over tens of seconds and neighbours share the drift. The gateway runs with its
 * defaults but the per-key limit, raised above what one load generator sends: at its default
 * (1,200 a minute per key) it would answer most of the run 429. The limit's check still runs.
 */
export async function measureIntake(redisUrl: string, plan: { seconds: number; rounds: number }) {
  const gateway = await startGateway(redisUrl, { API_RATE_LIMIT_PER_MINUTE: "100000000" });
  const bare = await startGateway(redisUrl, {}, BARE_ROUTE);
  const queue = new Queue(NOTIFICATION_QUEUE, { connection: { url: redisUrl } });
  const flusher = new Redis(redisUrl);
  const rssIdleMiB = gateway.process.rssMiB();
  const rates = { gateway: [] as number[], bare: [] as number[], raw: [] as number[] };
  let failed = 0;
  const http = async (server: { url: string }) => {
    const result = await runWrk(server.url, plan.seconds);
    failed += result.failed;
    return result.rate;
  };
  try {
    // Warm-up: JIT, connections; a cold process runs at a fraction of its speed for seconds.
    for (const server of [gateway, bare]) await runWrk(server.url, 2);
    await flusher.flushall();
    for (let round = 0; round < plan.rounds; round++) {
      const order = ["gateway", "bare", "raw"] as const;
      for (const name of round % 2 === 0 ? order : [...order].reverse()) {
        if (name === "raw") rates.raw.push(await rawAddRate(queue, plan.seconds));
        else rates[name].push(await http(name === "gateway" ? gateway : bare));
        await flusher.flushall();
      }
    }
    const ratio = (a: number[], b: number[]) => round(median(a.map((x, i) => x / (b[i] ?? 0))));
    return {
      gatewayPerSecond: rates.gateway.map((x) => Math.round(x)),
      barePerSecond: rates.bare.map((x) => Math.round(x)),
      rawAddsPerSecond: rates.raw.map((x) => Math.round(x)),
      /** Answers other than 2xx, and socket errors: not counted in the rates. */
      failed,
      gatewayOfBare: ratio(rates.gateway, rates.bare),
      gatewayOfRaw: ratio(rates.gateway, rates.raw),
      bareOfRaw: ratio(rates.bare, rates.raw),
      gatewayRssIdleMiB: rssIdleMiB,
      gatewayRssAfterMiB: gateway.process.rssMiB(),
    };
  } finally {
    await Promise.all([gateway.process.stop(), bare.process.stop(), queue.close()]);
    flusher.disconnect();
  }
}
