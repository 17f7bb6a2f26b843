import { Queue, type Worker } from "bullmq";
import { buildChannelRegistry } from "../channels/registry.js";
import { CHANNELS } from "../contract/channels.js";
import { NOTIFICATION_QUEUE } from "../contract/notification-job.js";
import { openEventPublisher } from "../delivery/events/publisher.js";
import { deliveryRetentionSeconds, jobSettingsOf, loadEnvOrExit } from "../lib/env.js";
import { handleShutdown } from "../lib/lifecycle.js";
import { createLogger } from "../lib/logger.js";
import { maskUrlPassword } from "../lib/mask.js";
import { QUEUE_METRICS_CACHE_MS, registerQueueGauges } from "../lib/queue-metrics.js";
import { createProducerConnection, createWorkerConnection } from "../lib/redis.js";
import { maxmemoryPolicyWarning } from "../lib/redis-checks.js";
import { removedVariableWarnings } from "../lib/removed-variables.js";
import { bullmqTelemetry, startTracing } from "../lib/tracing.js";
import { CatalogError, rendererFromEnv } from "../rendering/index.js";
import { createNotificationWorker } from "./create-worker.js";
import { digestConfigOf } from "./digest/policy.js";
import { workerEnvSchema } from "./env.js";
import { createEventDeliveryWorker } from "./event-delivery.js";
import { createHealthApp, startHealthServer } from "./health-server.js";
import { createJobsInFlight } from "./jobs-in-flight.js";
import { createWorkerMetrics } from "./metrics.js";

const env = loadEnvOrExit(workerEnvSchema);
// Before anything else, so the logger and the worker see it; undefined unless OTEL_* asks for it.
const tracing = await startTracing("notifications-worker");
const logger = createLogger({
  name: "worker",
  level: env.LOG_LEVEL,
  pretty: env.NODE_ENV === "development",
});

for (const warning of removedVariableWarnings()) logger.warn(warning);

// The development outbox prints messages in full on purpose: it is a local preview only.
const registry = buildChannelRegistry(env, (line) => process.stdout.write(`${line}\n`), logger);
const redisTarget = { url: env.REDIS_URL, cluster: env.REDIS_CLUSTER };
const connection = createWorkerConnection(redisTarget);
connection.on("error", (err) => logger.warn({ err: err.message }, "redis connection error"));
// /metrics reads queue depth on a connection that fails fast: with Redis down it must answer
// (queue_metrics_up 0) instead of waiting for a reconnect as the worker's own commands do.
const metricsConnection = createProducerConnection(redisTarget);
metricsConnection.on("error", () => {}); // reported through the worker connection's errors

const metrics = createWorkerMetrics();
// Queue depth on the worker's /metrics too: the gateway scales to zero, workers keep running.
const metricsQueue = new Queue(NOTIFICATION_QUEUE, {
  connection: metricsConnection,
  prefix: env.QUEUE_PREFIX,
});
metricsQueue.on("error", () => {});
registerQueueGauges({
  registry: metrics.registry,
  queue: metricsQueue,
  cacheMs: QUEUE_METRICS_CACHE_MS,
  logger,
});

// Catalogs are parsed and test-formatted here: a broken one stops the worker, naming file and key.
const render = await rendererFromEnv(env).catch((error: unknown) => {
  if (!(error instanceof CatalogError)) throw error;
  console.error(`Invalid message catalog: ${error.message}`);
  process.exit(1);
});
// Events to the exchange's backend, only with EVENTS_WEBHOOK_URL (the schema requires the secret
// with it): a queue of their own and a BullMQ worker of its own, so a slow or dead backend
// holds up events only, never notifications.
const events = env.EVENTS_WEBHOOK_URL
  ? openEventPublisher({
      connection,
      prefix: env.QUEUE_PREFIX,
      retentionDays: env.EVENTS_RETENTION_DAYS,
    })
  : undefined;
events?.queue.on("error", (err) => logger.warn({ err: err.message }, "events queue error"));
// Jobs under way in each worker, for the shutdown: with none, it does not wait for Redis.
const inFlight = { notifications: createJobsInFlight(), events: createJobsInFlight() };
const eventWorker =
  env.EVENTS_WEBHOOK_URL && env.EVENTS_WEBHOOK_SECRET
    ? createEventDeliveryWorker({
        connection,
        prefix: env.QUEUE_PREFIX,
        url: env.EVENTS_WEBHOOK_URL,
        secret: env.EVENTS_WEBHOOK_SECRET,
        retryScheduleMs: env.EVENTS_RETRY_SCHEDULE_MS,
        timeoutMs: env.EVENTS_WEBHOOK_TIMEOUT_MS,
        concurrency: env.EVENTS_CONCURRENCY,
        stalledIntervalMs: env.WORKER_STALLED_INTERVAL_MS,
        drainDelaySeconds: env.WORKER_DRAIN_DELAY_SECONDS,
        logger,
        registry: metrics.registry,
        inFlight: inFlight.events,
      })
    : undefined;

let worker: Worker | undefined;
const healthServer = startHealthServer(
  createHealthApp({ worker: () => worker, connection, metrics }),
  { port: env.WORKER_HEALTH_PORT, host: env.WORKER_HEALTH_HOST },
  (port) => logger.info({ port }, "worker health and metrics listening"),
);

connection.once("ready", async () => {
  const warning = await maxmemoryPolicyWarning(connection);
  if (warning) logger.warn(warning);
});

worker = await createNotificationWorker({
  connection,
  prefix: env.QUEUE_PREFIX,
  registry,
  logger,
  concurrency: env.WORKER_CONCURRENCY,
  ratePerSecond: env.RATE_LIMIT_PER_SECOND,
  jobSettings: jobSettingsOf(env),
  lockDurationMs: env.WORKER_LOCK_DURATION_MS,
  stalledIntervalMs: env.WORKER_STALLED_INTERVAL_MS,
  drainDelaySeconds: env.WORKER_DRAIN_DELAY_SECONDS,
  metrics,
  waitMs: {
    rate_limited: env.PROVIDER_RATE_LIMIT_WAIT_MS,
    quota: env.PROVIDER_QUOTA_WAIT_MS,
    misconfigured: env.PROVIDER_MISCONFIGURED_WAIT_MS,
  },
  digests: digestConfigOf(env),
  telemetry: bullmqTelemetry(),
  render,
  deliveryRetentionSeconds: deliveryRetentionSeconds(env),
  ...(events ? { events: events.publisher } : {}),
  inFlight: inFlight.notifications,
});
const running = worker;
running.on("ready", () => {
  logger.info(
    {
      redis: maskUrlPassword(env.REDIS_URL),
      providers: Object.fromEntries(
        CHANNELS.map((channel) => [channel, registry.adapters[channel].provider]),
      ),
      concurrency: env.WORKER_CONCURRENCY,
      ratePerSecond: env.RATE_LIMIT_PER_SECOND,
      providerRatePerSecond: registry.providerRatePerSecond,
      statusCallbacks: env.PUBLIC_URL !== undefined,
      events: eventWorker ? { concurrency: env.EVENTS_CONCURRENCY } : "off",
    },
    "worker ready",
  );
});

handleShutdown({
  logger,
  graceMs: env.WORKER_SHUTDOWN_TIMEOUT_MS,
  // close() stops fetching new jobs and waits for the active ones to finish.
  drain: () => Promise.all([running.close(), eventWorker?.close()]).then(() => {}),
  inFlight: () => inFlight.notifications.count() + inFlight.events.count(),
  close: async (drained) => {
    healthServer.close();
    // After a drain that did not finish Redis may be what hangs: drop the connections, no QUIT.
    if (!drained) connection.disconnect();
    metricsConnection.disconnect();
    await metricsQueue.close().catch(() => {});
    await events?.queue.close().catch(() => {});
    if (drained) await connection.quit().catch(() => connection.disconnect());
    await tracing?.shutdown().catch(() => {});
  },
});
