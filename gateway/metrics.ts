import { prometheus } from "@hono/prometheus";
import type { Queue } from "bullmq";
import { Registry } from "prom-client";
import type { Logger } from "../lib/logger.js";
import { registerQueueGauges } from "../lib/queue-metrics.js";

/** The gateway's Prometheus metrics: HTTP requests by route and status, and the queue's depth. */
export function createGatewayMetrics(options: { queue: Queue; cacheMs: number; logger: Logger }) {
  const registry = new Registry();
  const http = prometheus({ registry });
  registerQueueGauges({ registry, ...options });
  return { registry, registerMetrics: http.registerMetrics, printMetrics: http.printMetrics };
}
