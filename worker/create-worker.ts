import { randomUUID } from "node:crypto";
import { type Job, Queue, type Telemetry, Worker } from "bullmq";
import type { ChannelRegistry } from "../channels/registry.js";
import type { Channel } from "../contract/channels.js";
import { type DeliveryEventSink, NO_DELIVERY_EVENTS } from "../contract/delivery-events.js";
import {
  NOTIFICATION_QUEUE,
  type NotificationJobSettings,
  notificationJobOptions,
} from "../contract/notification-job.js";
import { createDeliveryStore } from "../delivery/delivery-store.js";
import { createDeliveryUpdates } from "../delivery/delivery-updates.js";
import { createSuppressionList } from "../delivery/suppressions.js";
import { DEFAULT_DELIVERY_RETENTION_SECONDS } from "../lib/env.js";
import type { Logger } from "../lib/logger.js";
import type { RedisConnection } from "../lib/redis.js";
import { type NotificationRenderer, rendererFromEnv } from "../rendering/index.js";
import { type ChannelBatcher, createChannelBatcher } from "./channel-batcher.js";
import { createDigestCollections } from "./digest/collection.js";
import type { DigestConfig } from "./digest/policy.js";
import { createJobsInFlight, type JobsInFlight } from "./jobs-in-flight.js";
import { createLookAlikeSets } from "./look-alikes.js";
import type { WorkerMetrics } from "./metrics.js";
import { publishUndecidedFailures, withNotificationEvents } from "./notification-events.js";
import { processNotification } from "./processor.js";
import { createProviderGate, type ProviderTrouble } from "./provider-gate.js";
import { createTryOpener } from "./try-opening.js";

/** Settings of a notification worker; `index.ts` reads them from the environment. */
export interface NotificationWorkerOptions {
  connection: RedisConnection;
  prefix: string;
  registry: ChannelRegistry;
  logger: Logger;
  concurrency: number;
  /** Jobs per second across every worker replica (BullMQ's limiter is global); 0: no limit. */
  ratePerSecond: number;
  /** Retries of jobs that carry none (existing backends'); also how many crashes a job survives. */
  jobSettings: NotificationJobSettings;
  lockDurationMs: number;
  stalledIntervalMs: number;
  /** How long an idle worker's blocking wait for a job lasts (one Redis command each). */
  drainDelaySeconds: number;
  metrics: WorkerMetrics;
  /** How long a provider waits after each kind of trouble that names no Retry-After. */
  waitMs: Record<ProviderTrouble, number>;
  /** Overrides the queue name; tests use a private one. */
  queueName?: string;
  /** Digests of partial fills; without it every fill is sent on its own. */
  digests?: DigestConfig;
  /** Renders each notification; the default catalogs and brand when omitted (tests). */
  render?: NotificationRenderer;
  /** BullMQ telemetry (bullmq-otel) while tracing is on: a span per attempt, in the job's trace. */
  telemetry?: Telemetry;
  /** How long delivery status is kept (DELIVERY_STATUS_RETENTION_DAYS), in seconds; 30 days unset. */
  deliveryRetentionSeconds?: number;
  /**
   * Where the worker's events go (the events queue): notification.sent and notification.failed,
   * and what its delivery record learns (a provider's early webhook event, Twilio's 21610
   * suppressing a number); none when unset.
   */
  events?: DeliveryEventSink;
  /** Counts the jobs being processed, for the shutdown; none kept when unset. */
  inFlight?: JobsInFlight;
}

/** How long a digest collection is kept after its last write: as long as failed jobs are kept. */
const DIGEST_COLLECTION_TTL_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * A random id kept in Redis beside the queue, made by the first worker that starts on it.
 * Provider idempotency keys carry it, so two deployments sharing a Resend team, or one whose
 * Redis was reset (job ids start again at 1), never share a key.
 */
async function deploymentIdOf(redis: RedisConnection, key: string): Promise<string> {
  await redis.set(key, randomUUID(), "NX");
  const id = await redis.get(key);
  if (!id) throw new Error(`could not read ${key}`);
  return id;
}

let defaultRendering: Promise<NotificationRenderer> | undefined;
/** Built once per process: catalogs and MJML layouts take about 0.3 s to prepare. */
function defaultRenderer(): Promise<NotificationRenderer> {
  defaultRendering ??= rendererFromEnv();
  return defaultRendering;
}

/** Starts a BullMQ worker that delivers notifications. */
export async function createNotificationWorker(
  options: NotificationWorkerOptions,
): Promise<Worker> {
  const { logger, connection } = options;
  // Applied to jobs whose producer set no retention (existing backends adding jobs directly).
  const { removeOnComplete, removeOnFail } = notificationJobOptions(options.jobSettings);
  const queueName = options.queueName ?? NOTIFICATION_QUEUE;
  const keyPrefix = `${options.prefix}:${queueName}`;
  const deploymentId = await deploymentIdOf(connection, `${keyPrefix}:deployment-id`);
  const gate = createProviderGate({
    redis: connection,
    keyPrefix,
    perSecond: options.registry.providerRatePerSecond,
    onSlotWait: (provider) => options.metrics.recordLocalRateLimitWait(provider),
    onWait: (provider, wait) => options.metrics.recordProviderWait(provider, wait),
  });
  // Final delivery status (delivery/delivery-store.ts) and the suppression list, beside the queue.
  const store = createDeliveryStore({
    redis: connection,
    keyPrefix,
    retentionSeconds: options.deliveryRetentionSeconds ?? DEFAULT_DELIVERY_RETENTION_SECONDS,
  });
  const suppressions = createSuppressionList({ redis: connection, keyPrefix });
  const batchers: Partial<Record<Channel, ChannelBatcher>> = {};
  for (const [channel, settings] of Object.entries(options.registry.batching ?? {})) {
    const adapter = options.registry.adapters[channel as Channel];
    if (!settings || !adapter.sendBatch) continue;
    batchers[channel as Channel] = createChannelBatcher({
      adapter: { ...adapter, sendBatch: adapter.sendBatch },
      maxSize: settings.maxSize,
      gate,
      redis: connection,
      keyPrefix,
      suppressionLookup: (recipients) =>
        suppressions.lookup(
          recipients.map((recipient) => ({ channel: adapter.channel, recipient })),
        ),
    });
  }
  // Digest jobs are added from the worker, on the worker's connection (BullMQ does not close a
  // connection it was given; index.ts quits it after the worker).
  const digestQueue = options.digests
    ? new Queue(queueName, { connection, prefix: options.prefix })
    : undefined;
  const digests =
    options.digests && digestQueue
      ? {
          config: options.digests,
          collections: createDigestCollections({
            redis: connection,
            keyPrefix,
            maxFills: options.digests.maxFills,
            finalDelayMs: options.digests.finalDelayMs,
            ttlMs: DIGEST_COLLECTION_TTL_MS,
          }),
          queue: digestQueue,
          jobSettings: options.jobSettings,
          metrics: options.metrics,
        }
      : undefined;
  const updates = createDeliveryUpdates({
    store,
    suppressions,
    events: options.events ?? NO_DELIVERY_EVENTS,
    logger,
    metrics: options.metrics.delivery,
  });
  const deps = {
    digests,
    delivery: { store, suppressions, updates },
    openTry: createTryOpener({ redis: connection, gate, suppressions }),
    adapters: options.registry.adapters,
    // Held for twice a job's lock: a crashed sender's entry lapses about when its job is taken over.
    lookAlikes: createLookAlikeSets({
      redis: connection,
      keyPrefix,
      ttlMs: options.lockDurationMs * 2,
    }),
    batchers,
    gate,
    deploymentId,
    jobSettings: options.jobSettings,
    waitMs: options.waitMs,
    logger,
    metrics: options.metrics,
    render: options.render ?? (await defaultRenderer()),
  };
  const inFlight = options.inFlight ?? createJobsInFlight();
  const processJob = (job: Job, token: string | undefined) =>
    inFlight.run(() => processNotification(job, token, deps));
  const worker: Worker = new Worker(
    queueName,
    options.events ? withNotificationEvents(processJob, options.events, logger) : processJob,
    {
      connection,
      prefix: options.prefix,
      concurrency: options.concurrency,
      // Off by default: the providers' own limits (provider-gate.ts) protect them.
      ...(options.ratePerSecond > 0
        ? { limiter: { max: options.ratePerSecond, duration: 1000 } }
        : {}),
      lockDuration: options.lockDurationMs,
      stalledInterval: options.stalledIntervalMs,
      // A worker that dies (OOM, kill -9, a hung shutdown) leaves its jobs stalled; each one
      // survives as many such deaths as it has attempts, instead of BullMQ's default of one.
      maxStalledCount: options.jobSettings.attempts,
      drainDelay: options.drainDelaySeconds,
      removeOnComplete: removeOnComplete as { age: number; count: number },
      removeOnFail: removeOnFail as { age: number; count: number },
      ...(options.telemetry ? { telemetry: options.telemetry } : {}),
    },
  );

  worker.on("completed", (job) => {
    options.metrics.recordJob("completed");
    logger.info({ notificationId: job.id, attempt: job.attemptsMade }, "notification delivered");
  });
  worker.on("failed", (job, err) => {
    // BullMQ sets finishedOn only when it moves the job to failed for good.
    const final = !job || Boolean(job.finishedOn);
    options.metrics.recordJob(final ? "failed" : "retrying");
    logger[final ? "error" : "warn"](
      { notificationId: job?.id, attempt: job?.attemptsMade, final, reason: err.message },
      final ? "notification failed" : "notification attempt failed, will retry",
    );
  });
  worker.on("error", (err) => logger.error({ err }, "worker error"));
  worker.on("closed", () => void digestQueue?.close().catch(() => {}));
  if (options.events) publishUndecidedFailures(worker, options.events, logger);
  return worker;
}
