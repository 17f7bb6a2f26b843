import { serve } from "@hono/node-server";
import type { Worker } from "bullmq";
import { Hono } from "hono";
import type { RedisConnection } from "../lib/redis.js";
import type { WorkerMetrics } from "./metrics.js";

/**
 * The worker's small HTTP port, for the platform's health check and Prometheus:
 * `/healthz` is 200 while the worker runs and its Redis connection is up (read from the
 * connection's state: no command per probe), and names any provider in a wait (a 429, a used-up
 * quota, refused credentials) as this worker last saw it; `/metrics` is Prometheus text.
 * `worker` is a getter: the port is up before the worker, so a start without Redis is visible.
 */
export function createHealthApp(options: {
  worker: () => Worker | undefined;
  connection: RedisConnection;
  metrics: WorkerMetrics;
}) {
  const app = new Hono();
  app.get("/healthz", (c) => {
    const redis = options.connection.status;
    const running = options.worker()?.isRunning() ?? false;
    const healthy = redis === "ready" && running;
    const waits = options.metrics.providerWaits();
    return c.json(
      {
        status: healthy ? "ok" : "unavailable",
        redis,
        running,
        ...(Object.keys(waits).length > 0 ? { providerWaits: describeWaits(waits) } : {}),
      },
      healthy ? 200 : 503,
    );
  });
  app.get("/metrics", async (c) => {
    const text = await options.metrics.registry.metrics();
    return c.text(text, 200, { "content-type": options.metrics.registry.contentType });
  });
  return app;
}

function describeWaits(waits: ReturnType<WorkerMetrics["providerWaits"]>) {
  return Object.fromEntries(
    Object.entries(waits).map(([provider, wait]) => [
      provider,
      { reason: wait.reason, code: wait.code, until: new Date(wait.until).toISOString() },
    ]),
  );
}

/** Serves the health app (on all interfaces by default, so the platform's checker can reach it). */
export function startHealthServer(
  app: Hono,
  address: { port: number; host: string },
  onListening: (port: number) => void,
) {
  return serve({ fetch: app.fetch, port: address.port, hostname: address.host }, (info) =>
    onListening(info.port),
  );
}
