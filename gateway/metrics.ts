import { prometheus } from "@hono/prometheus";
import type { Queue } from "bullmq";
import { Registry } from "prom-client";
import { registerDeliveryMetrics } from "../lib/delivery-metrics.js";
import type { Logger } from "../lib/logger.js";
import { registerQueueGauges } from "../lib/queue-metrics.js";

/**
 * The gateway's Prometheus metrics: HTTP requests by route and status, the queue's depth, and
 * what the provider webhooks reported (bounces, complaints, suppressions).
 */
export function createGatewayMetrics(options: { queue: Queue; cacheMs: number; logger: Logger }) {
  const registry = new Registry();
  const http = prometheus({ registry });
  registerQueueGauges({ registry, ...options });
  const delivery = registerDeliveryMetrics(registry);
  return {
    registry,
    delivery,
    registerMetrics: http.registerMetrics,
    printMetrics: http.printMetrics,
  };
}
