import { randomUUID } from "node:crypto";
import { Queue } from "bullmq";
import { NOTIFICATION_QUEUE } from "../contract/notification-job.js";
import { addEmails } from "./drain.js";
import { startCommandCounter } from "./redis-usage.js";
import {
  median,
  NOTIFICATION,
  percentile,
  post,
  RESEND_REQUESTS_PER_SECOND,
  round,
  sleep,
  startFakes,
  startGateway,
  startRedis,
  startWorker,
  until,
} from "./support.js";

/** A trickle: one notification at a time, below the provider's limit so none waits for a slot. */
const TRICKLE_GAP_MS = 1000 / RESEND_REQUESTS_PER_SECOND + 200;

/**
 * The built gateway and one built worker with their defaults, fed a trickle of email + SMS
 * notifications: POST sent → the fake Resend receives the email, and the Redis commands clients
 * send per notification (MONITOR), intake and delivery. Then the same processes idle: Redis
 * commands over `idleSeconds`, extrapolated to an hour.
 */
export async function measureTrickle(plan: { count: number; idleSeconds: number }) {
  const redis = await startRedis();
  const fakes = await startFakes();
  const gateway = await startGateway(redis.url);
  const worker = await startWorker(redis.url, fakes);
  const counter = await startCommandCounter(redis.url);
  try {
    /** POST sent → 202 received, the gateway's share of the pickup. */
    const answers: number[] = [];
    const delivered = (to: string) => fakes.resend.emails.find((email) => email.to === to);
    const send = async (i: number) => {
      const to = `trickle-${i}@example.com`;
      const sentAt = Date.now();
      await post(gateway.url, { ...NOTIFICATION, to, order: `trickle-order-${i}` });
      answers.push(Date.now() - sentAt);
      const email = await until(() => delivered(to));
      await until(() => fakes.twilio.messages.length > i);
      await sleep(sentAt + TRICKLE_GAP_MS - Date.now());
      return email.receivedAt - sentAt;
    };
    // Warm-up: JIT, the SDKs' first connections to the fakes.
    for (let i = 0; i < 3; i++) await send(i);
    counter.take();
    const latencies: number[] = [];
    for (let i = 3; i < plan.count + 3; i++) latencies.push(await send(i));
    const commands = counter.take();
    await sleep(3000);
    counter.take();
    await sleep(plan.idleSeconds * 1000);
    const idle = counter.take();
    return {
      count: plan.count,
      gapMs: TRICKLE_GAP_MS,
      pickupP50Ms: percentile(latencies, 50),
      pickupP99Ms: percentile(latencies, 99),
      answerP50Ms: percentile(answers.slice(3), 50),
      commandsPerNotification: round(commands.total / plan.count, 1),
      commandsByName: commands.byCommand,
      idleSeconds: plan.idleSeconds,
      idleCommandsPerHour: Math.round((idle.total * 3600) / plan.idleSeconds),
      idleCommandsByName: idle.byCommand,
    };
  } finally {
    counter.stop();
    await Promise.all([gateway.process.stop(), worker.stop()]);
    await Promise.all([fakes.resend.close(), fakes.twilio.close()]);
    await redis.stop();
  }
}

/** Spawn → the first 202 from `file` (the built gateway or the bare route). */
async function gatewayColdStart(redisUrl: string, file: string): Promise<number> {
  const started = performance.now();
  const gateway = await startGateway(redisUrl, {}, file);
  await post(gateway.url);
  const elapsed = performance.now() - started;
  await gateway.process.stop();
  return elapsed;
}

/** Spawn → the fake Resend receives the email of a job that waits for the worker. */
async function workerColdStart(redisUrl: string): Promise<number> {
  const fakes = await startFakes();
  const queue = new Queue(NOTIFICATION_QUEUE, { connection: { url: redisUrl } });
  await addEmails(queue, [`cold-${randomUUID()}@example.com`]);
  const started = performance.now();
  const worker = await startWorker(redisUrl, fakes);
  try {
    await until(() => fakes.resend.emails.length > 0);
    return performance.now() - started;
  } finally {
    await worker.stop();
    await queue.close();
    await Promise.all([fakes.resend.close(), fakes.twilio.close()]);
  }
}

/** Cold starts of the built gateway, the bare route and the built worker, in `rounds`. */
export async function measureColdStart(rounds: number) {
  const redis = await startRedis();
  const ms = { gateway: [] as number[], bare: [] as number[], worker: [] as number[] };
  try {
    for (let i = 0; i < rounds; i++) {
      ms.gateway.push(await gatewayColdStart(redis.url, "dist/gateway.mjs"));
      ms.bare.push(await gatewayColdStart(redis.url, "bench/bare-intake-server.mjs"));
      ms.worker.push(await workerColdStart(redis.url));
    }
  } finally {
    await redis.stop();
  }
  return {
    gatewayMs: ms.gateway.map(Math.round),
    bareMs: ms.bare.map(Math.round),
    workerMs: ms.worker.map(Math.round),
    gatewayOfBare: round(median(ms.gateway) / median(ms.bare)),
  };
}
