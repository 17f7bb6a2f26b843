import { createRoute, z } from "@hono/zod-openapi";
import type { GatewayApp, GatewayDeps } from "../app-types.js";

const Liveness = z.object({ status: z.literal("ok") }).openapi("Liveness");
const Readiness = z
  .object({
    status: z.enum(["ready", "unavailable"]),
    redis: z.string().describe("The Redis connection's state"),
    warnings: z.array(z.string()).optional().describe("Configuration problems found at start"),
  })
  .openapi("Readiness");

const livenessRoute = createRoute({
  method: "get",
  path: "/healthz",
  summary: "Liveness: 200 while the process runs",
  responses: {
    200: { description: "Alive", content: { "application/json": { schema: Liveness } } },
  },
});

const readinessRoute = createRoute({
  method: "get",
  path: "/readyz",
  summary: "Readiness: 200 only while Redis is connected",
  responses: {
    200: { description: "Ready", content: { "application/json": { schema: Readiness } } },
    503: {
      description: "Redis unreachable",
      content: { "application/json": { schema: Readiness } },
    },
  },
});

/** `GET /healthz` and `GET /readyz`. Readiness reads the connection's state: no PING per probe. */
export function registerHealth(app: GatewayApp, deps: GatewayDeps): void {
  app.openapi(livenessRoute, (c) => c.json({ status: "ok" as const }, 200));
  app.openapi(readinessRoute, (c) => {
    const redis = deps.redis.status;
    const warnings = deps.warnings?.length ? { warnings: deps.warnings } : {};
    return redis === "ready"
      ? c.json({ status: "ready" as const, redis, ...warnings }, 200)
      : c.json({ status: "unavailable" as const, redis, ...warnings }, 503);
  });
}
