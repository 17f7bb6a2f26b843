import { serve } from "@hono/node-server";
import type { Worker } from "bullmq";
import { Hono } from "hono";
import type { RedisConnection } from "../lib/redis.js";
import type { WorkerMetrics } from "./metrics.js";

/**
 * The worker's small HTTP port, for the platform's health check and Prometheus:
 * `/healthz` is 200 while the worker runs and its Redis connection is up (read from the
 * connection's state: no command per probe); `/metrics` is Prometheus text.
 */
export function createHealthApp(options: {
  worker: Worker;
  connection: RedisConnection;
  metrics: WorkerMetrics;
}) {
  const app = new Hono();
  app.get("/healthz", (c) => {
    const redis = options.connection.status;
    const running = options.worker.isRunning();
    const healthy = redis === "ready" && running;
    return c.json({ status: healthy ? "ok" : "unavailable", redis, running }, healthy ? 200 : 503);
  });
  app.get("/metrics", async (c) => {
    const text = await options.metrics.registry.metrics();
    return c.text(text, 200, { "content-type": options.metrics.registry.contentType });
  });
  return app;
}

/** Serves the health app on `port` (all interfaces, so the platform's checker can reach it). */
export function startHealthServer(app: Hono, port: number, onListening: (port: number) => void) {
  return serve({ fetch: app.fetch, port, hostname: "0.0.0.0" }, (info) => onListening(info.port));
}
