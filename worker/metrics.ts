import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { Channel } from "../contract/channels.js";
import type { FailureKind } from "../contract/delivery-report.js";
import { registerDeliveryMetrics } from "../delivery/delivery-metrics.js";
import type { ProviderWait } from "./provider-gate.js";

/** How a provider call ended, as counted in `notification_channel_sends_total`. */
export type SendOutcome = "sent" | "recovered" | FailureKind;

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
    help: "Times a send waited for its provider's slot under our own per-provider limit (a provider's 429 is counted in notification_channel_sends_total{outcome=\"rate_limited\"})",
    labelNames: ["provider"],
    registers: [registry],
  });
  const fillsCollected = new Counter({
    name: "notification_digest_fills_total",
    help: "Fills recorded into a digest, by channel (a repeated fill is counted once)",
    labelNames: ["channel"],
    registers: [registry],
  });
  const digestsSent = new Counter({
    name: "notification_digests_sent_total",
    help: "Digests of an order's fills sent, by channel",
    labelNames: ["channel"],
    registers: [registry],
  });
  const messagesSaved = new Counter({
    name: "notification_digest_messages_saved_total",
    help: "Messages not sent thanks to digests (fills in a sent digest minus one), by channel",
    labelNames: ["channel"],
    registers: [registry],
  });
  // Waits this process learned of (its own calls' errors, or the shared gate's answer): read
  // from memory, so /metrics never needs Redis.
  const waits = new Map<string, ProviderWait>();
  new Gauge({
    name: "notification_provider_wait_seconds",
    help: "Seconds left in a provider's wait (429, quota, refused credentials) as last seen by this worker; 0 when none",
    labelNames: ["provider", "reason"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [provider, wait] of waits) {
        this.set({ provider, reason: wait.reason }, Math.max(0, (wait.until - Date.now()) / 1000));
      }
    },
  });

  return {
    registry,
    /** Suppressed sends, suppressions added at send (Twilio's 21610), events not published. */
    delivery: registerDeliveryMetrics(registry),
    recordSend(channel: Channel, outcome: SendOutcome, seconds: number): void {
      sends.inc({ channel, outcome });
      duration.observe({ channel, outcome }, seconds);
    },
    recordLocalRateLimitWait(provider: string): void {
      rateLimitWaits.inc({ provider });
    },
    recordProviderWait(provider: string, wait: ProviderWait): void {
      waits.set(provider, wait);
    },
    /** Provider waits still running, for the health endpoint. */
    providerWaits(): Record<string, ProviderWait> {
      const now = Date.now();
      return Object.fromEntries([...waits].filter(([, wait]) => wait.until > now));
    },
    recordJob(outcome: "completed" | "failed" | "retrying"): void {
      jobs.inc({ outcome });
    },
    recordFillCollected(channel: Channel): void {
      fillsCollected.inc({ channel });
    },
    /** A digest of `fills` fills went out: one message instead of `fills`. */
    recordDigestSent(channel: Channel, fills: number): void {
      digestsSent.inc({ channel });
      messagesSaved.inc({ channel }, fills - 1);
    },
  };
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;
