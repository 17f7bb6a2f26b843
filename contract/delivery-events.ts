/**
 * Events this service reports to the exchange's backend (signed webhooks). Their
 * producers (the worker when a provider accepts or a notification fails; the gateway's provider
 * webhooks for delivery, bounces and suppressions) publish them through a DeliveryEventSink;
 * the events queue signs and delivers them. One shape for both sides.
 */
import { createHash } from "node:crypto";
import type { Channel } from "./channels.js";

export const DELIVERY_EVENT_TYPES = [
  "notification.sent",
  "notification.delivered",
  "notification.failed",
  "notification.bounced",
  "recipient.suppressed",
] as const;
export type DeliveryEventType = (typeof DELIVERY_EVENT_TYPES)[number];

export interface DeliveryEvent {
  /** Stable: the same fact always gets the same id, so the backend can deduplicate. */
  id: string;
  type: DeliveryEventType;
  /** ISO 8601: when the fact happened (the provider's time where it gives one). */
  occurredAt: string;
  data: {
    notificationId?: string;
    channel?: Channel;
    providerId?: string;
    /** The provider's code (a bounce type, a Twilio error code). */
    code?: string;
    reason?: string;
    /** Only for recipient.suppressed: the address or number the backend should flag. */
    recipient?: string;
  };
}

/** Where producers publish events; publishing never waits for the backend. */
export interface DeliveryEventSink {
  publish(event: DeliveryEvent): Promise<void>;
}

/** For deployments without EVENTS_WEBHOOK_URL. */
export const NO_DELIVERY_EVENTS: DeliveryEventSink = { publish: async () => {} };

/** An event id derived from the fact it reports: type plus whatever identifies the fact. */
export function deliveryEventId(type: DeliveryEventType, ...fact: string[]): string {
  const digest = createHash("sha256")
    .update([type, ...fact].join("\u0000"))
    .digest("hex");
  return `evt_${digest.slice(0, 32)}`;
}
