import { Worker } from "bullmq";
import {
  type Channel,
  NOTIFICATION_QUEUE,
  notificationJobOptions,
} from "../contract/notification-job.js";
import type { Logger } from "../lib/logger.js";
import type { RedisConnection } from "../lib/redis.js";
import type { Senders } from "./channels/sender.js";
import { deliverNotification } from "./deliver-notification.js";
import type { WorkerMetrics } from "./metrics.js";
import { createProviderRateLimiter } from "./provider-rate-limit.js";

/** Settings of a notification worker; `index.ts` reads them from the environment. */
export interface NotificationWorkerOptions {
  connection: RedisConnection;
  prefix: string;
  senders: Senders;
  logger: Logger;
  concurrency: number;
  /** Jobs per second across every worker replica (BullMQ's limiter is global). */
  ratePerSecond: number;
  /** Provider calls per second across every replica, per channel. */
  providerRatePerSecond: Record<Channel, number>;
  lockDurationMs: number;
  stalledIntervalMs: number;
  /** How long an idle worker's blocking wait for a job lasts (one Redis command each). */
  drainDelaySeconds?: number;
  metrics: WorkerMetrics;
  /** Wait after a provider's 429 without Retry-After. */
  rateLimitWaitMs?: number;
  /** Overrides the queue name; tests use a private one. */
  queueName?: string;
}

/** Starts a BullMQ worker that delivers notifications. */
export function createNotificationWorker(options: NotificationWorkerOptions): Worker {
  const { logger } = options;
  // Applied to jobs whose producer set no retention (existing backends adding jobs directly).
  const { removeOnComplete, removeOnFail } = notificationJobOptions();
  const queueName = options.queueName ?? NOTIFICATION_QUEUE;
  const acquireSlot = createProviderRateLimiter({
    redis: options.connection,
    keyPrefix: `${options.prefix}:${queueName}`,
    perSecond: options.providerRatePerSecond,
    onWait: (channel) => options.metrics.recordLocalRateLimitWait(channel),
  });
  const worker: Worker = new Worker(
    queueName,
    (job) =>
      deliverNotification(job, {
        senders: options.senders,
        logger,
        acquireSlot,
        pauseQueue: (ms) => worker.rateLimit(ms),
        metrics: options.metrics,
        rateLimitWaitMs: options.rateLimitWaitMs,
      }),
    {
      connection: options.connection,
      prefix: options.prefix,
      concurrency: options.concurrency,
      limiter: { max: options.ratePerSecond, duration: 1000 },
      lockDuration: options.lockDurationMs,
      stalledInterval: options.stalledIntervalMs,
      drainDelay: options.drainDelaySeconds ?? 60,
      removeOnComplete: removeOnComplete as { age: number; count: number },
      removeOnFail: removeOnFail as { age: number; count: number },
    },
  );

  worker.on("completed", (job) => {
    options.metrics.recordJob("completed");
    logger.info({ notificationId: job.id, attempt: job.attemptsMade }, "notification delivered");
  });
  worker.on("failed", (job, err) => {
    const attempts = job?.opts.attempts ?? 1;
    const final = !job || job.attemptsMade >= attempts || err.name === "UnrecoverableError";
    options.metrics.recordJob(final ? "failed" : "retrying");
    logger[final ? "error" : "warn"](
      { notificationId: job?.id, attempt: job?.attemptsMade, final, reason: err.message },
      final ? "notification failed" : "notification attempt failed, will retry",
    );
  });
  worker.on("error", (err) => logger.error({ err }, "worker error"));
  return worker;
}
