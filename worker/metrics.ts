import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";
import type { Channel } from "../contract/notification-job.js";

/** How a provider call ended, as counted in `notification_channel_sends_total`. */
export type SendOutcome =
  | "sent"
  | "recovered"
  | "permanent"
  | "transient"
  | "rate_limited"
  | "misconfigured";

/**
 * The worker's Prometheus metrics, served on WORKER_HEALTH_PORT: what each channel did, how long
 * provider calls took, how often rate limits made a send wait, and the process's own (RSS, GC).
 */
export function createWorkerMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const sends = new Counter({
    name: "notification_channel_sends_total",
    help: "Provider calls by channel and outcome (recovered: found already sent by an earlier try)",
    labelNames: ["channel", "outcome"],
    registers: [registry],
  });
  const jobs = new Counter({
    name: "notification_jobs_total",
    help: "Notification jobs finished by outcome (completed, failed for good, or failed and retrying)",
    labelNames: ["outcome"],
    registers: [registry],
  });
  const duration = new Histogram({
    name: "notification_provider_request_duration_seconds",
    help: "Duration of provider calls by channel and outcome",
    labelNames: ["channel", "outcome"],
    buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const rateLimitWaits = new Counter({
    name: "notification_rate_limit_waits_total",
    help: "Times a send waited for a rate limit: ours per provider (local) or the provider's 429 (provider)",
    labelNames: ["channel", "source"],
    registers: [registry],
  });

  return {
    registry,
    recordSend(channel: Channel, outcome: SendOutcome, seconds: number): void {
      sends.inc({ channel, outcome });
      duration.observe({ channel, outcome }, seconds);
      if (outcome === "rate_limited") rateLimitWaits.inc({ channel, source: "provider" });
    },
    recordLocalRateLimitWait(channel: Channel): void {
      rateLimitWaits.inc({ channel, source: "local" });
    },
    recordJob(outcome: "completed" | "failed" | "retrying"): void {
      jobs.inc({ outcome });
    },
  };
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;
