import type { RecipientReport, StatusReport, WebhookAdapter } from "../channels/webhook-adapter.js";
import { maskRecipient } from "../contract/channels.js";
import type { DeliveryUpdates } from "../delivery/delivery-updates.js";
import type { SuppressionList } from "../delivery/suppressions.js";
import type { Logger } from "../lib/logger.js";
import type { RedisConnection } from "../lib/redis.js";
import type { createGatewayMetrics } from "./metrics.js";

/** What applying a provider's report needs. */
export interface WebhookServices {
  updates: DeliveryUpdates;
  suppressions: SuppressionList;
  metrics: ReturnType<typeof createGatewayMetrics>["delivery"];
  logger: Logger;
  /** Where replayed requests are recognised, under `keyPrefix`. */
  redis: RedisConnection;
  keyPrefix: string;
}

/**
 * Moves a message's record on (delivery/delivery-updates.ts) and suppresses what the report
 * names; answers the outcome the webhook metric counts.
 */
export async function applyStatusReport(
  adapter: WebhookAdapter,
  report: StatusReport,
  services: WebhookServices,
  requestId: string,
): Promise<string> {
  const { updates, metrics } = services;
  const { transition } = report;
  // Pending (the worker has not recorded the message yet), the event keeps what it suppresses:
  // the worker applies it with the record, once the message is known ours.
  const result = await updates.providerEvent(
    adapter.provider,
    report.providerId,
    report.suppress ? { ...transition, suppress: report.suppress } : transition,
  );
  if (result.outcome !== "duplicate") {
    if (report.bounceType) metrics.recordBounce(report.bounceType);
    if (report.complaint) metrics.recordComplaint();
  }
  // Only a message this deployment sent (its id indexed by the worker) suppresses: a signed
  // event for any other id names a recipient someone else chose, and stays pending until its
  // hour is up.
  if (report.suppress && result.outcome !== "pending") {
    for (const recipient of report.suppress.recipients) {
      await updates.suppress({
        channel: adapter.channel,
        recipient,
        reason: report.suppress.reason,
        source: adapter.provider,
        code: report.suppress.code,
        at: transition.at,
        notificationId: result.notificationId,
        cause: `${report.providerId}:${transition.event}`,
      });
    }
  }
  services.logger.info(
    {
      requestId,
      provider: adapter.provider,
      event: transition.event,
      code: transition.code,
      providerId: report.providerId,
      notificationId: result.notificationId,
      outcome: result.outcome,
    },
    "delivery webhook",
  );
  return result.outcome;
}

/**
 * Suppresses a recipient who sent STOP, lifts it for START. Each incoming message acts once,
 * however late it comes back: a provider that signs no timestamp lets a captured START come back
 * at any time, and it must never undo a later STOP (nor a STOP a later START).
 */
export async function applyRecipientReport(
  adapter: WebhookAdapter,
  report: RecipientReport,
  services: WebhookServices,
): Promise<string> {
  const { updates, suppressions, metrics } = services;
  const { channel } = adapter;
  const { recipient, messageId } = report;
  if (!(await suppressions.claimInbound(channel, recipient, messageId))) return "duplicate";
  try {
    if (report.type === "stop") {
      await updates.suppress({
        channel,
        recipient,
        reason: "stop",
        source: adapter.provider,
        code: report.code,
        at: Date.now(),
        cause: messageId,
      });
    } else if (await suppressions.remove(channel, recipient)) {
      metrics.recordLifted(channel, "start");
      services.logger.info(
        { channel, to: maskRecipient(channel, recipient) },
        "suppression lifted: START",
      );
    }
  } catch (error) {
    // Not applied: the provider retries it under the same id.
    await suppressions.releaseInbound(channel, recipient, messageId).catch(() => {});
    throw error;
  }
  return report.type;
}
