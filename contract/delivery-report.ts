/**
 * What happened to each channel of a notification. The worker writes it as the job's progress
 * (and, once done, its return value); the gateway reads it back for `GET /notifications/{id}`.
 * One schema for both, keyed by channel.
 */
import { z } from "zod";
import { CHANNELS, type Channel, recipientOf } from "./channels.js";

/** How a failed provider call is treated; see docs/delivery-guarantees.md for each provider's table. */
export const FAILURE_KINDS = [
  "permanent",
  "transient",
  "rate_limited",
  "quota",
  "misconfigured",
  // Not a failure of the provider: this try must wait (for a look-alike in flight), no attempt used.
  "deferred",
] as const;
export type FailureKind = (typeof FAILURE_KINDS)[number];

export const channelDeliverySchema = z.object({
  /**
   * `skipped`: no recipient for this channel; `suppressed`: the recipient is on the suppression
   * list (delivery/suppressions.ts), so no provider call was made; `digested`: this fill went into a
   * digest (`digestId`), which sends the channel's message.
   */
  status: z.enum(["pending", "sent", "failed", "skipped", "suppressed", "digested"]),
  /** Provider calls made for this channel so far. */
  calls: z.number().int(),
  /** The provider's message id once sent (an email id, a message SID). */
  providerId: z.string().optional(),
  /** The digest notification this fill went into, when `digested`: look it up by this id. */
  digestId: z.string().optional(),
  /**
   * Set before a call whose provider has no idempotency key, cleared once the provider's answer
   * says for sure whether it accepted: while set, an earlier try may have sent the message, and
   * the adapter looks for it (only at messages created since then) before sending again.
   */
  inFlightSince: z.number().optional(),
  /**
   * When the last call in doubt ended with an unclear answer (a 5xx, a timeout): the earlier
   * try's message was created before then, so a look-up ignores messages created later (another
   * notification's look-alike). Unset after a crash, when the end is unknown.
   */
  inFlightUntil: z.number().optional(),
  /** The last error; `permanent` errors are not retried. */
  error: z
    .object({
      code: z.string(),
      message: z.string(),
      permanent: z.boolean(),
      kind: z.enum(FAILURE_KINDS).optional(),
    })
    .optional(),
});
export type ChannelDelivery = z.infer<typeof channelDeliverySchema>;

const channelShape = Object.fromEntries(
  CHANNELS.map((channel) => [channel, channelDeliverySchema]),
) as Record<Channel, typeof channelDeliverySchema>;

/**
 * Per-channel delivery state. `final` is set when the notification failed for good, so a manual
 * retry (ours or Bull Board's) knows to reopen the failed channels.
 */
export const deliveryReportSchema = z.object({ ...channelShape, final: z.boolean().optional() });
export type DeliveryReport = z.infer<typeof deliveryReportSchema>;

/** The report a job starts with: each channel pending when its recipient is given, else skipped. */
export function initialDeliveryReport(payload: object): DeliveryReport {
  const report = Object.fromEntries(
    CHANNELS.map((channel) => [
      channel,
      { status: recipientOf(payload, channel) === undefined ? "skipped" : "pending", calls: 0 },
    ]),
  );
  return report as unknown as DeliveryReport;
}

/** Reads a report back from job progress or return value; anything else yields `undefined`. */
export function readDeliveryReport(value: unknown): DeliveryReport | undefined {
  const parsed = deliveryReportSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/**
 * True once any channel went out or may have (a call made, or one recorded before it was made:
 * the worker may have died during it): such a notification can no longer be cancelled.
 */
export function anyChannelStarted(report: DeliveryReport): boolean {
  return CHANNELS.some(
    (channel) => report[channel].calls > 0 || report[channel].inFlightSince !== undefined,
  );
}
