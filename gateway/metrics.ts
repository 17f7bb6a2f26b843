import type { Queue } from "bullmq";
import type { Context } from "hono";
import { Registry } from "prom-client";
import { registerDeliveryMetrics } from "../delivery/delivery-metrics.js";
import type { Logger } from "../lib/logger.js";
import { registerQueueGauges } from "../lib/queue-metrics.js";

/**
 * The gateway's Prometheus registry: HTTP requests by route and status (recorded by
 * middleware/request-telemetry.ts), the queue's depth, and what the provider webhooks reported
 * (bounces, complaints, suppressions).
 */
export function createGatewayMetrics(options: { queue: Queue; cacheMs: number; logger: Logger }) {
  const registry = new Registry();
  registerQueueGauges({ registry, ...options });
  const delivery = registerDeliveryMetrics(registry);
  return {
    registry,
    delivery,
    printMetrics: async (c: Context) => c.text(await registry.metrics()),
  };
}
