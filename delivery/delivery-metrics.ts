import { Counter, type Registry } from "prom-client";
import type { Channel } from "../contract/channels.js";
import type { DeliveryUpdateMetrics } from "./delivery-updates.js";
import type { SuppressionReason } from "./suppressions.js";

/**
 * Counters of final delivery status and the suppression list, on the gateway's registry (the
 * webhooks) and the worker's (sends skipped, Twilio's 21610): bounces, complaints, suppressions
 * added and lifted, sends skipped because of one, webhook requests by outcome.
 */
export function registerDeliveryMetrics(registry: Registry) {
  const registers = [registry];
  const suppressions = new Counter({
    name: "notification_suppressions_total",
    help: "Recipients added to the suppression list, by channel and reason (bounce, complaint, provider_suppressed, stop)",
    labelNames: ["channel", "reason"],
    registers,
  });
  const lifted = new Counter({
    name: "notification_suppressions_lifted_total",
    help: "Suppressions lifted, by channel and how (start: the recipient texted START; admin: DELETE /suppressions)",
    labelNames: ["channel", "how"],
    registers,
  });
  const suppressedSends = new Counter({
    name: "notification_suppressed_sends_total",
    help: "Channels of notifications not sent because their recipient is suppressed (no provider call)",
    labelNames: ["channel"],
    registers,
  });
  const bounces = new Counter({
    name: "notification_bounces_total",
    help: "Bounces Resend reported, by bounce type (Permanent ones suppress the address)",
    labelNames: ["type"],
    registers,
  });
  const complaints = new Counter({
    name: "notification_complaints_total",
    help: "Spam complaints Resend reported (each suppresses the address)",
    registers,
  });
  const webhooks = new Counter({
    name: "notification_webhook_requests_total",
    help: "Provider webhook requests by provider and outcome (changed, recorded, duplicate, pending, ignored, refused)",
    labelNames: ["provider", "outcome"],
    registers,
  });
  const publishFailures = new Counter({
    name: "notification_delivery_event_publish_failures_total",
    help: "Delivery events for the backend that could not be published, by type",
    labelNames: ["type"],
    registers,
  });
  return {
    recordSuppression(channel: Channel, reason: SuppressionReason): void {
      suppressions.inc({ channel, reason });
    },
    recordLifted(channel: Channel, how: "start" | "admin"): void {
      lifted.inc({ channel, how });
    },
    recordSuppressedSend(channel: Channel): void {
      suppressedSends.inc({ channel });
    },
    recordBounce(type: string): void {
      bounces.inc({ type });
    },
    recordComplaint(): void {
      complaints.inc();
    },
    recordWebhook(provider: string, outcome: string): void {
      webhooks.inc({ provider, outcome });
    },
    recordPublishFailure(type: string): void {
      publishFailures.inc({ type });
    },
  } satisfies DeliveryUpdateMetrics & Record<string, unknown>;
}

export type DeliveryMetrics = ReturnType<typeof registerDeliveryMetrics>;
