import { Queue } from "bullmq";
import { NOTIFICATION_QUEUE } from "../contract/notification-job.js";
import { loadEnvOrExit } from "../lib/env.js";
import { createLogger } from "../lib/logger.js";
import { maskUrlPassword } from "../lib/mask.js";
import { registerQueueGauges } from "../lib/queue-metrics.js";
import { createWorkerConnection } from "../lib/redis.js";
import { maxmemoryPolicyWarning } from "../lib/redis-checks.js";
import { createNotificationWorker } from "./create-worker.js";
import { workerEnvSchema } from "./env.js";
import { createHealthApp, startHealthServer } from "./health-server.js";
import { createWorkerMetrics } from "./metrics.js";
import { buildSenders } from "./senders.js";

const env = loadEnvOrExit(workerEnvSchema);
const logger = createLogger({
  name: "worker",
  level: env.LOG_LEVEL,
  pretty: env.NODE_ENV === "development",
});

// The development outbox prints messages in full on purpose: it is a local preview only.
const senders = buildSenders(env, (line) => process.stdout.write(`${line}\n`));
const connection = createWorkerConnection({ url: env.REDIS_URL, cluster: env.REDIS_CLUSTER });
connection.on("error", (err) => logger.warn({ err: err.message }, "redis connection error"));

const metrics = createWorkerMetrics();
// Queue depth on the worker's /metrics too: the gateway scales to zero, workers keep running.
const metricsQueue = new Queue(NOTIFICATION_QUEUE, { connection, prefix: env.QUEUE_PREFIX });
registerQueueGauges({ registry: metrics.registry, queue: metricsQueue, cacheMs: 5000, logger });
const worker = createNotificationWorker({
  connection,
  prefix: env.QUEUE_PREFIX,
  senders,
  logger,
  concurrency: env.WORKER_CONCURRENCY,
  ratePerSecond: env.RATE_LIMIT_PER_SECOND,
  providerRatePerSecond: {
    email: env.EMAIL_RATE_LIMIT_PER_SECOND,
    sms: env.SMS_RATE_LIMIT_PER_SECOND,
  },
  lockDurationMs: env.WORKER_LOCK_DURATION_MS,
  stalledIntervalMs: env.WORKER_STALLED_INTERVAL_MS,
  drainDelaySeconds: env.WORKER_DRAIN_DELAY_SECONDS,
  metrics,
  rateLimitWaitMs: env.PROVIDER_RATE_LIMIT_WAIT_MS,
});

const healthServer = startHealthServer(
  createHealthApp({ worker, connection, metrics }),
  env.WORKER_HEALTH_PORT,
  (port) => logger.info({ port }, "worker health and metrics listening"),
);

connection.once("ready", async () => {
  const warning = await maxmemoryPolicyWarning(connection);
  if (warning) logger.warn(warning);
});

worker.on("ready", () => {
  logger.info(
    {
      redis: maskUrlPassword(env.REDIS_URL),
      email: senders.emailProvider,
      sms: senders.smsProvider,
      concurrency: env.WORKER_CONCURRENCY,
      ratePerSecond: env.RATE_LIMIT_PER_SECOND,
      emailPerSecond: env.EMAIL_RATE_LIMIT_PER_SECOND,
      smsPerSecond: env.SMS_RATE_LIMIT_PER_SECOND,
    },
    "worker ready",
  );
});

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "worker shutting down: finishing in-flight jobs");
  // close() stops fetching new jobs and waits for the active ones to finish; past the grace time
  // the rest are abandoned: their locks lapse and another worker takes them over.
  const finished = await Promise.race([
    worker.close().then(() => true),
    new Promise<false>((resolve) =>
      setTimeout(() => resolve(false), env.WORKER_SHUTDOWN_TIMEOUT_MS).unref(),
    ),
  ]);
  if (!finished) {
    logger.error(
      { graceMs: env.WORKER_SHUTDOWN_TIMEOUT_MS },
      "in-flight jobs did not finish in time",
    );
    await worker.close(true);
  }
  healthServer.close();
  await metricsQueue.close();
  await connection.quit().catch(() => connection.disconnect());
  logger.info("worker stopped");
  process.exit(finished ? 0 : 1);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("unhandledRejection", (reason) => logger.error({ reason }, "unhandled rejection"));
