/**
 * What the providers said happened to a channel after they accepted it: the final status per
 * channel. The worker writes `sent` (or `suppressed`, or `failed` at send) when it
 * is done with a channel; the gateway's provider webhooks move it on. Both write through
 * delivery/delivery-store.ts, and `GET /notifications/{id}` reads it back.
 */
import { z } from "zod";
import { CHANNELS, type Channel } from "./channels.js";

/**
 * - `sent`: the provider accepted the message (Resend's `email.sent`, Twilio's `sent`).
 * - `delivered`: the recipient's mail server or carrier took it.
 * - `bounced`: the recipient's mail server refused it (a Permanent bounce also suppresses).
 * - `complained`: the recipient marked the email as spam (suppresses the address).
 * - `undelivered`: the carrier could not deliver the SMS (Twilio's ErrorCode says why).
 * - `failed`: the provider gave up, or refused it at send (its code says why).
 * - `suppressed`: not sent: the recipient is on the suppression list.
 */
export const DELIVERY_STATES = [
  "sent",
  "delivered",
  "bounced",
  "complained",
  "undelivered",
  "failed",
  "suppressed",
] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

/**
 * The status only moves forward: an event whose rank is not above the current one goes in the
 * timeline and changes nothing (a late `sent` after `delivered`, Twilio's callbacks of a
 * multi-segment message arriving out of order). Bad news outranks `delivered`: a bounce or an
 * undelivered receipt after a delivery is the last word on it, and a complaint comes after
 * delivery by nature.
 */
export const DELIVERY_STATE_RANK: Record<DeliveryState, number> = {
  sent: 1,
  delivered: 2,
  bounced: 3,
  undelivered: 3,
  failed: 3,
  complained: 4,
  suppressed: 5,
};

/**
 * The gateway's route for Twilio's status callbacks: the worker sends each SMS with
 * `StatusCallback` = PUBLIC_URL + this path.
 */
export const TWILIO_STATUS_CALLBACK_PATH = "/webhooks/twilio";

/** Who reported an event. */
export const DELIVERY_SOURCES = ["worker", "resend", "twilio"] as const;
export type DeliverySource = (typeof DELIVERY_SOURCES)[number];

/** Who wrote a timeline entry: a provider, the worker, or the gateway (a request's own entry). */
export const TIMELINE_SOURCES = [...DELIVERY_SOURCES, "gateway"] as const;

/** One event of a notification's timeline. */
export const deliveryTimelineEntrySchema = z.object({
  at: z.string().describe("ISO 8601: the provider's time where it gives one, else when received"),
  /** The channel it concerns; none for the gateway's entries, which concern the notification. */
  channel: z.enum(CHANNELS as [Channel, ...Channel[]]).optional(),
  source: z.enum(TIMELINE_SOURCES),
  /**
   * The provider's own name for it (`email.delivered`, Twilio's `undelivered`), the worker's
   * (`sent`), or the gateway's: `accepted`, `cancelled`, `retried`.
   */
  event: z.string(),
  /** The status it means, when it is one (a delay, Twilio's `queued`, are not). */
  status: z.enum(DELIVERY_STATES).optional(),
  /** The provider's code: a bounce type, a Twilio ErrorCode, Resend's failure reason. */
  code: z.string().optional(),
  /** The provider's words, contact details masked. */
  reason: z.string().optional(),
  /** The gateway's entries: the id of the API key that asked (the first 16 hex digits of its SHA-256). */
  keyId: z.string().optional(),
  /** The gateway's entries: the request's id (its `X-Request-Id`). */
  requestId: z.string().optional(),
  /** `accepted`: the request's `Idempotency-Key`, when it sent one. */
  idempotencyKey: z.string().optional(),
});
export type DeliveryTimelineEntry = z.infer<typeof deliveryTimelineEntrySchema>;

/** A channel's final status as recorded. */
export const channelStatusSchema = z.object({
  status: z.enum(DELIVERY_STATES),
  at: z.string().describe("ISO 8601: when it reached this status"),
  code: z.string().optional(),
  providerId: z.string().optional(),
});
export type ChannelStatus = z.infer<typeof channelStatusSchema>;
