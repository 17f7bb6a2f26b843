import { OpenAPIHono } from "@hono/zod-openapi";
import { Hono } from "hono";
import { secureHeaders } from "hono/secure-headers";
import { buildWebhookAdapters } from "../channels/webhooks.js";
import { NO_DELIVERY_EVENTS } from "../contract/delivery-events.js";
import { createDeliveryStore } from "../delivery/delivery-store.js";
import { createDeliveryUpdates } from "../delivery/delivery-updates.js";
import { createNotificationIndex } from "../delivery/notification-index.js";
import { createSuppressionList } from "../delivery/suppressions.js";
import { DEFAULT_DELIVERY_RETENTION_SECONDS } from "../lib/env.js";
import { acceptedKeys } from "./api-keys.js";
import { limitPerApiKey } from "./api-rate-limit.js";
import type { GatewayApp, GatewayDeps, GatewayEnv } from "./app-types.js";
import { requireApiKey } from "./auth.js";
import { DEFAULT_WEBHOOK_RATE_LIMIT_PER_MINUTE } from "./env.js";
import { createErrorHandler, notFoundHandler } from "./error-handler.js";
import { ApiError, formatZodError } from "./errors.js";
import { createGatewayMetrics } from "./metrics.js";
import { everyRequest } from "./middleware/every-request.js";
import { registerAdminDashboard } from "./routes/admin-dashboard.js";
import { registerAdminPreviews } from "./routes/admin-previews.js";
import { registerApiDocs } from "./routes/api-docs.js";
import { registerReplayEvents } from "./routes/events-replay.js";
import { registerHealth } from "./routes/health.js";
import { registerBatchNotifications } from "./routes/notifications-batch.js";
import { registerCancelNotification } from "./routes/notifications-cancel.js";
import { registerCreateNotification } from "./routes/notifications-create.js";
import { registerGetNotification } from "./routes/notifications-get.js";
import { registerListNotifications } from "./routes/notifications-list.js";
import { registerRetryNotification } from "./routes/notifications-retry.js";
import { registerSuppressions } from "./routes/suppressions.js";
import { registerProviderWebhook } from "./routes/webhooks-receive.js";
import { limitWebhooksPerClient } from "./webhook-guard.js";

/** The gateway's API app (for tests that need nothing else). */
export function createApp(deps: GatewayDeps): GatewayApp {
  return createGateway(deps).app;
}

/**
 * Builds the gateway's two Hono apps; neither listens. `app` is the public API; `metricsApp`
 * serves `/metrics` on its own port (METRICS_PORT), which the platform's scraper reaches over
 * the private network and the public service does not expose: request counts and queue depth
 * tell an outsider the exchange's trade volume.
 */
export function createGateway(deps: GatewayDeps): { app: GatewayApp; metricsApp: Hono } {
  const app: GatewayApp = new OpenAPIHono<GatewayEnv>({
    // Every validation failure becomes the one error shape, with zod's messages and paths.
    defaultHook: (result) => {
      if (!result.success) throw new ApiError("BAD_REQUEST", formatZodError(result.error));
    },
  });

  const metrics = createGatewayMetrics({
    queue: deps.queue,
    cacheMs: deps.metricsCacheMs ?? 0,
    logger: deps.logger,
  });
  // A server span per request and a `traceparent` response header, only while tracing is on.
  if (deps.requestTracing) app.use(...deps.requestTracing);
  // A request id and the security headers on every response, a log line and metrics for each;
  // no CORS middleware, so browsers on other origins are refused.
  app.use(everyRequest({ logger: deps.logger, registry: metrics.registry }));
  app.use(secureHeaders());
  app.onError(createErrorHandler(deps.logger));
  app.notFound(notFoundHandler);

  // Probes, unauthenticated: the platform's health checks call them.
  registerHealth(app, deps);

  // Notifications, behind API keys (checked before the body is read).
  const limits = deps.limits ?? { perKeyPerMinute: 1200, authFailuresPerMinute: 20 };
  const keyPrefix = deps.queue.qualifiedName;
  const apiKey = requireApiKey(acceptedKeys(deps.apiKeys, deps.apiKeyHashes), {
    redis: deps.redis,
    keyPrefix,
    perMinute: limits.authFailuresPerMinute,
    clientIpHeader: limits.clientIpHeader,
    trustedProxyHops: limits.trustedProxyHops,
  });
  const perKey =
    limits.perKeyPerMinute > 0
      ? limitPerApiKey({ redis: deps.redis, keyPrefix, perMinute: limits.perKeyPerMinute })
      : undefined;
  // Final delivery status and the suppression list (delivery/delivery-store.ts, delivery/suppressions.ts).
  const retentionSeconds = deps.deliveryRetentionSeconds ?? DEFAULT_DELIVERY_RETENTION_SECONDS;
  const store = createDeliveryStore({ redis: deps.redis, keyPrefix, retentionSeconds });
  // The search indexes beside the records (delivery/notification-index.ts), with their retention.
  const index = createNotificationIndex({ redis: deps.redis, keyPrefix, retentionSeconds });
  const suppressions = createSuppressionList({ redis: deps.redis, keyPrefix });
  const updates = createDeliveryUpdates({
    store,
    suppressions,
    events: deps.events ?? NO_DELIVERY_EVENTS,
    logger: deps.logger,
    metrics: metrics.delivery,
  });

  // "/notifications/*" also matches "/notifications" itself: one registration, one run each.
  app.use("/notifications/*", apiKey);
  if (perKey) app.use("/notifications/*", perKey);
  registerCreateNotification(app, deps);
  registerBatchNotifications(app, deps);
  registerListNotifications(app, deps, { index, store });
  registerGetNotification(app, deps, { store });
  registerRetryNotification(app, deps, { index });
  registerCancelNotification(app, deps, { index });

  // Events to the exchange's backend, behind the same keys (the route wants an admin one).
  app.use("/events/*", apiKey);
  if (perKey) app.use("/events/*", perKey);
  registerReplayEvents(app, deps);

  // The suppression list, for admin-scoped keys.
  app.use("/suppressions/*", apiKey);
  if (perKey) app.use("/suppressions/*", perKey);
  registerSuppressions(app, deps, { suppressions, metrics: metrics.delivery });

  // Provider webhooks: no API key (the provider's signature authenticates each request), each
  // mounted only when its secret is configured: unconfigured, the path is a 404 like any other.
  const webhooks = deps.webhooks ?? {};
  const webhookAdapters = buildWebhookAdapters(webhooks);
  const webhooksPerMinute = webhooks.perMinute ?? DEFAULT_WEBHOOK_RATE_LIMIT_PER_MINUTE;
  if (webhookAdapters.length > 0 && webhooksPerMinute > 0) {
    app.use(
      "/webhooks/*",
      limitWebhooksPerClient({
        redis: deps.redis,
        keyPrefix,
        perMinute: webhooksPerMinute,
        clientIpHeader: limits.clientIpHeader,
        trustedProxyHops: limits.trustedProxyHops,
      }),
    );
  }
  const webhookServices = {
    updates,
    suppressions,
    metrics: metrics.delivery,
    logger: deps.logger,
    redis: deps.redis,
    keyPrefix,
  };
  for (const adapter of webhookAdapters) registerProviderWebhook(app, adapter, webhookServices);

  // The API's own description, built from the routes above.
  registerApiDocs(app);

  // Operators' pages, behind their own login: the queue dashboard, the message previews.
  registerAdminDashboard(app, deps);
  registerAdminPreviews(app, deps);

  const metricsApp = new Hono().get("/metrics", metrics.printMetrics);
  return { app, metricsApp };
}
