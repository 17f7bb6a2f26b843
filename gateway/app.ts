import { OpenAPIHono } from "@hono/zod-openapi";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import { acceptedKeys } from "./api-keys.js";
import { limitPerApiKey } from "./api-rate-limit.js";
import type { GatewayApp, GatewayDeps, GatewayEnv } from "./app-types.js";
import { requireApiKey } from "./auth.js";
import { ApiError, createErrorHandler, formatZodError, notFoundHandler } from "./errors.js";
import { createGatewayMetrics } from "./metrics.js";
import { requestLog } from "./request-log.js";
import { registerAdminDashboard } from "./routes/admin-dashboard.js";
import { registerApiDocs } from "./routes/api-docs.js";
import { registerHealth } from "./routes/health.js";
import { registerBatchNotifications } from "./routes/notifications-batch.js";
import { registerCancelNotification } from "./routes/notifications-cancel.js";
import { registerCreateNotification } from "./routes/notifications-create.js";
import { registerGetNotification } from "./routes/notifications-get.js";
import { registerListNotifications } from "./routes/notifications-list.js";
import { registerRetryNotification } from "./routes/notifications-retry.js";

/** Builds the gateway's Hono app: middleware, error handling and routes. It never listens. */
export function createApp(deps: GatewayDeps): GatewayApp {
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
  // Security headers on every response; no CORS middleware, so browsers on other origins are refused.
  app.use(secureHeaders());
  app.use(requestId());
  app.use(requestLog(deps.logger));
  app.use(metrics.registerMetrics);
  app.onError(createErrorHandler(deps.logger));
  app.notFound(notFoundHandler);

  // Probes and metrics, unauthenticated: the platform's health checks and scrapers call them.
  registerHealth(app, deps);
  app.get("/metrics", metrics.printMetrics);

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
  // "/notifications/*" also matches "/notifications" itself: one registration, one run each.
  app.use("/notifications/*", apiKey);
  if (perKey) app.use("/notifications/*", perKey);
  registerCreateNotification(app, deps);
  registerBatchNotifications(app, deps);
  registerListNotifications(app, deps);
  registerGetNotification(app, deps);
  registerRetryNotification(app, deps);
  registerCancelNotification(app, deps);

  // The API's own description, built from the routes above.
  registerApiDocs(app);

  // Operators' dashboard, behind its own login.
  registerAdminDashboard(app, deps);

  return app;
}
