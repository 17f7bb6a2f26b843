import { serve } from "@hono/node-server";
import { Queue } from "bullmq";
import { buildWebhookAdapters, webhookSettingsOf, webhookWarnings } from "../channels/webhooks.js";
import { NOTIFICATION_QUEUE } from "../contract/notification-job.js";
import { openEventPublisher } from "../delivery/events/publisher.js";
import { deliveryRetentionSeconds, jobSettingsOf, loadEnvOrExit } from "../lib/env.js";
import { handleShutdown } from "../lib/lifecycle.js";
import { createLogger } from "../lib/logger.js";
import { maskUrlPassword } from "../lib/mask.js";
import { QUEUE_METRICS_CACHE_MS } from "../lib/queue-metrics.js";
import { createProducerConnection } from "../lib/redis.js";
import { maxmemoryPolicyWarning } from "../lib/redis-checks.js";
import { removedVariableWarnings } from "../lib/removed-variables.js";
import { bullmqTelemetry, startTracing } from "../lib/tracing.js";
import { createGateway } from "./app.js";
import { gatewayEnvSchema } from "./env.js";
import { weakSecrets } from "./secret-strength.js";

const env = loadEnvOrExit(gatewayEnvSchema);
// Before anything else, so the logger and the queue see it; undefined unless OTEL_* asks for it.
const tracing = await startTracing("notifications-gateway");
const logger = createLogger({
  name: "gateway",
  level: env.LOG_LEVEL,
  pretty: env.NODE_ENV === "development",
});
for (const warning of removedVariableWarnings()) logger.warn(warning);

const redis = createProducerConnection({ url: env.REDIS_URL, cluster: env.REDIS_CLUSTER });
redis.on("error", (err) => logger.warn({ err: err.message }, "redis connection error"));
// BullMQ's telemetry carries the request's trace into each job, for the worker to continue.
const telemetry = bullmqTelemetry();
const queue = new Queue(NOTIFICATION_QUEUE, {
  connection: redis,
  prefix: env.QUEUE_PREFIX,
  ...(telemetry ? { telemetry } : {}),
});
queue.on("error", (err) => logger.warn({ err: err.message }, "queue error"));

// Events to the exchange's backend, only with EVENTS_WEBHOOK_URL: the gateway publishes (provider
// webhooks) and replays; the worker delivers.
const events = env.EVENTS_WEBHOOK_URL
  ? openEventPublisher({
      connection: redis,
      prefix: env.QUEUE_PREFIX,
      retentionDays: env.EVENTS_RETENTION_DAYS,
      replayLimitPerHour: env.EVENTS_REPLAY_LIMIT_PER_HOUR,
    })
  : undefined;
events?.queue.on("error", (err) => logger.warn({ err: err.message }, "events queue error"));

// Filled once Redis answers; /readyz reports them.
const warnings: string[] = [];
redis.once("ready", async () => {
  const warning = await maxmemoryPolicyWarning(redis);
  if (warning) {
    warnings.push(warning);
    logger.warn(warning);
  }
});

// Loaded only while tracing is on: @hono/otel and its conventions cost start time and memory.
const requestTracing = tracing ? (await import("./tracing.js")).requestTracing() : undefined;

const webhookSettings = webhookSettingsOf(env);
const { app, metricsApp } = createGateway({
  queue,
  redis,
  apiKeys: env.API_KEYS,
  apiKeyHashes: env.API_KEY_HASHES,
  limits: {
    perKeyPerMinute: env.API_RATE_LIMIT_PER_MINUTE,
    authFailuresPerMinute: env.AUTH_FAILURES_PER_MINUTE,
    maxScheduledPerKey: env.MAX_SCHEDULED_PER_KEY,
    clientIpHeader: env.CLIENT_IP_HEADER,
    trustedProxyHops: env.TRUSTED_PROXY_HOPS,
  },
  jobSettings: jobSettingsOf(env),
  metricsCacheMs: QUEUE_METRICS_CACHE_MS,
  messages: env,
  ...(env.ADMIN_USER && env.ADMIN_PASSWORD
    ? {
        admin: {
          user: env.ADMIN_USER,
          password: env.ADMIN_PASSWORD,
          readOnly: env.ADMIN_READ_ONLY,
        },
      }
    : {}),
  logger,
  warnings,
  ...(events ? { events: events.publisher, eventsQueue: events.queue } : {}),
  ...(requestTracing ? { requestTracing } : {}),
  webhooks: { ...webhookSettings, perMinute: env.WEBHOOK_RATE_LIMIT_PER_MINUTE },
  deliveryRetentionSeconds: deliveryRetentionSeconds(env),
});

// Production refuses weak secrets at parse time; elsewhere they are allowed, and said.
if (env.NODE_ENV !== "production") {
  for (const { path, message } of weakSecrets(env)) {
    logger.warn(`${path.join(".")} ${message}; a production start refuses it`);
  }
}

for (const warning of webhookWarnings(webhookSettings)) logger.warn(warning);

// A client that trickles its request (slowloris) is cut off with 408 instead of holding a socket:
// Node enforces requestTimeout when it checks connections, so the check runs often enough.
const serverOptions = {
  requestTimeout: env.REQUEST_TIMEOUT_MS,
  headersTimeout: Math.min(env.REQUEST_TIMEOUT_MS, 60_000),
  connectionsCheckingInterval: Math.min(1000, env.REQUEST_TIMEOUT_MS / 2),
};
const metricsServer = serve(
  { fetch: metricsApp.fetch, port: env.METRICS_PORT, hostname: env.METRICS_HOST },
  (info) => logger.info({ port: info.port }, "gateway metrics listening"),
);
const server = serve(
  { fetch: app.fetch, port: env.PORT, hostname: env.HOST, serverOptions },
  (info) => {
    logger.info(
      {
        port: info.port,
        redis: maskUrlPassword(env.REDIS_URL),
        apiKeys: env.API_KEYS.length + env.API_KEY_HASHES.length,
        webhooks: buildWebhookAdapters(webhookSettings).map(({ provider }) => provider),
      },
      "gateway listening",
    );
  },
);

handleShutdown({
  logger,
  graceMs: env.SHUTDOWN_TIMEOUT_MS,
  // Stop accepting connections and let in-flight requests finish before closing Redis.
  drain: () => new Promise<void>((resolve) => server.close(() => resolve())),
  close: async () => {
    metricsServer.close();
    await queue.close().catch(() => {});
    await events?.queue.close().catch(() => {});
    await redis.quit().catch(() => redis.disconnect());
    await tracing?.shutdown().catch(() => {});
  },
});
