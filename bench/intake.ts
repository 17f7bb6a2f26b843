import { randomUUID } from "node:crypto";
import autocannon from "autocannon";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import {
  NOTIFICATION_QUEUE,
  notificationJobOptions,
  TRADE_EXECUTED_JOB,
} from "../contract/notification-job.js";
import { DEFAULT_JOB_SETTINGS } from "../lib/env.js";
import { freePort } from "../scripts/redis-server.js";
import { waitForHttpOk } from "../test/support/wait.js";
import { type BuiltProcess, median, round, startBuilt } from "./support.js";

export const BENCH_API_KEY = "bench-key-0123456789abcdef";
export const NOTIFICATION = {
  to: "user@example.com",
  phone: "+12025550143",
  asset: "BTC",
  amount: 1000,
  quantity: 0.02,
  order: "order-id-123",
};
const CONNECTIONS = 32;

/** Starts the built gateway and waits until it answers. */
export async function startGateway(redisUrl: string, env: Record<string, string> = {}) {
  const port = await freePort();
  const gateway = startBuilt("dist/gateway/server.js", {
    REDIS_URL: redisUrl,
    PORT: String(port),
    API_KEYS: BENCH_API_KEY,
    ...env,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUntilReady(`${url}/readyz`, gateway);
  return { gateway, url };
}

/** Waits until a readiness URL answers 200; fails at once if the process died. */
export function waitUntilReady(url: string, process: BuiltProcess, timeoutMs = 15_000) {
  return waitForHttpOk(url, {
    timeout: timeoutMs,
    stillRunning: () => {
      if (process.child.exitCode !== null) throw new Error(`exited:\n${process.lines.join("\n")}`);
    },
  });
}

function postNotifications(url: string, durationS: number, overallRate?: number) {
  return autocannon({
    url: `${url}/notifications`,
    method: "POST",
    headers: { authorization: `Bearer ${BENCH_API_KEY}`, "content-type": "application/json" },
    body: JSON.stringify(NOTIFICATION),
    connections: CONNECTIONS,
    duration: durationS,
    ...(overallRate ? { overallRate } : {}),
  });
}

/** `queue.add` from 32 concurrent loops in this process: what a backend calling BullMQ gets. */
async function rawBullmqRate(queue: Queue, durationS: number): Promise<number> {
  const options = notificationJobOptions(DEFAULT_JOB_SETTINGS);
  const end = Date.now() + durationS * 1000;
  let added = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (Date.now() < end) {
        await queue.add(TRADE_EXECUTED_JOB, NOTIFICATION, { ...options, jobId: randomUUID() });
        added += 1;
      }
    }),
  );
  return added / ((performance.now() - started) / 1000);
}

/**
 * Gateway intake against raw BullMQ on the same Redis, in alternating rounds; then the gateway's
 * p99 latency at half its measured maximum rate; and the gateway's memory before and after.
 */
export async function measureIntake(options: {
  redisUrl: string;
  durationS: number;
  rounds: number;
}) {
  const flusher = new Redis(options.redisUrl);
  // The per-key limit (1,200 a minute by default) would answer most of a load test with 429.
  const { gateway, url } = await startGateway(options.redisUrl, { API_RATE_LIMIT_PER_MINUTE: "0" });
  const rssIdle = gateway.rssMiB();
  const queue = new Queue(NOTIFICATION_QUEUE, { connection: { url: options.redisUrl } });
  // The ceiling of this HTTP stack: a bare Hono + zod + queue.add route, measured alongside.
  const barePort = await freePort();
  const bare = startBuilt("bench/bare-intake-server.mjs", {
    REDIS_URL: options.redisUrl,
    PORT: String(barePort),
  });
  const bareUrl = `http://127.0.0.1:${barePort}`;
  await waitUntilReady(`${bareUrl}/readyz`, bare);
  const gatewayRates: number[] = [];
  const rawRates: number[] = [];
  const bareRates: number[] = [];
  try {
    await postNotifications(url, 1); // warm-up: JIT, connections
    await flusher.flushall();
    for (let round = 0; round < options.rounds; round++) {
      const result = await postNotifications(url, options.durationS);
      if (result.non2xx > 0 || result.errors > 0) {
        throw new Error(`intake run had ${result.non2xx} non-2xx and ${result.errors} errors`);
      }
      gatewayRates.push(result.requests.average);
      await flusher.flushall();
      rawRates.push(await rawBullmqRate(queue, options.durationS));
      await flusher.flushall();
      bareRates.push((await postNotifications(bareUrl, options.durationS)).requests.average);
      await flusher.flushall();
    }
    const maxRate = median(gatewayRates);
    const p99s: number[] = [];
    const bareP99s: number[] = [];
    for (let round = 0; round < options.rounds; round++) {
      const result = await postNotifications(url, options.durationS, Math.floor(maxRate / 2));
      p99s.push(result.latency.p99);
      await flusher.flushall();
      // The bare route at the same rate: what this machine's HTTP stack allows.
      bareP99s.push(
        (await postNotifications(bareUrl, options.durationS, Math.floor(maxRate / 2))).latency.p99,
      );
      await flusher.flushall();
    }
    const ratios = gatewayRates.map((rate, index) => rate / (rawRates[index] ?? Number.NaN));
    const ofBare = gatewayRates.map((rate, index) => rate / (bareRates[index] ?? Number.NaN));
    const bareOfRaw = bareRates.map((rate, index) => rate / (rawRates[index] ?? Number.NaN));
    return {
      gatewayRequestsPerSecond: gatewayRates.map((rate) => round(rate, 0)),
      rawAddsPerSecond: rawRates.map((rate) => round(rate, 0)),
      bareRouteRequestsPerSecond: bareRates.map((rate) => round(rate, 0)),
      ratio: round(median(ratios)),
      gatewayOfBareRoute: round(median(ofBare)),
      bareRouteOfRaw: round(median(bareOfRaw)),
      p99AtHalfRateMs: round(median(p99s)),
      bareRouteP99AtHalfRateMs: round(median(bareP99s)),
      halfRate: Math.floor(maxRate / 2),
      gatewayRssIdleMiB: rssIdle,
      gatewayRssAfterIntakeMiB: gateway.rssMiB(),
    };
  } finally {
    await queue.close();
    await Promise.all([gateway.stop(), bare.stop()]);
    flusher.disconnect();
  }
}
