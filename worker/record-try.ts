import type { Job } from "bullmq";
import type { ChannelAdapter } from "../channels/channel-adapter.js";
import { CHANNELS, type Channel, recipientOf } from "../contract/channels.js";
import type { DeliveryReport } from "../contract/delivery-report.js";
import type { NotificationPayload } from "../contract/notification-job.js";
import type { DeliveryStore, DeliveryTransition } from "../delivery/delivery-store.js";
import type { DeliveryUpdates } from "../delivery/delivery-updates.js";
import type { SuppressionList } from "../delivery/suppressions.js";
import type { Logger } from "../lib/logger.js";
import type { ChannelOutcome, Verdict } from "./delivery-steps.js";

/** What recording a try needs; built once per worker. */
export interface RecordTryDeps {
  adapters: Record<Channel, ChannelAdapter>;
  logger: Logger;
  /** The final-status record, the suppression list, and what follows from them. */
  delivery: { store: DeliveryStore; suppressions: SuppressionList; updates: DeliveryUpdates };
}

/** A provider's refusal that means "never again" (Twilio's 21610) suppresses the recipient. */
export async function suppressRefusedRecipients(
  job: Job,
  payload: NotificationPayload,
  outcomes: Partial<Record<Channel, ChannelOutcome>>,
  deps: RecordTryDeps,
): Promise<void> {
  for (const channel of CHANNELS) {
    const outcome = outcomes[channel];
    const recipient = recipientOf(payload, channel);
    if (outcome?.type !== "failed" || !outcome.error.suppress || !recipient) continue;
    const notificationId = String(job.id);
    await deps.delivery.updates
      .suppress({
        channel,
        recipient,
        reason: outcome.error.suppress,
        source: deps.adapters[channel].provider,
        code: outcome.error.code,
        at: Date.now(),
        notificationId,
        cause: `${notificationId}:${channel}:${outcome.error.code}`,
      })
      .catch((error: unknown) =>
        deps.logger.warn(
          { notificationId, channel, err: error instanceof Error ? error.message : String(error) },
          "could not add the recipient to the suppression list",
        ),
      );
  }
}

/**
 * Writes what this try settled to the notification's delivery record: each channel newly sent
 * (and its provider id, for the webhooks to find), suppressed or failed, the report, and the
 * outcome once final. Webhook events that arrived before the record are applied now, and
 * their delivery events published. A failure to write is logged: the job's own report stands.
 */
export async function recordTry(
  job: Job,
  before: DeliveryReport,
  final: DeliveryReport,
  verdict: Verdict,
  deps: RecordTryDeps,
): Promise<void> {
  const notificationId = String(job.id);
  const at = Date.now();
  const transitions: DeliveryTransition[] = [];
  const providerIds: Array<{ provider: string; providerId: string }> = [];
  for (const channel of CHANNELS) {
    const was = before[channel];
    const now = final[channel];
    if (now.status === was.status) continue;
    const common = { channel, at, source: "worker" as const, event: now.status };
    if (now.status === "sent" && now.providerId) {
      transitions.push({
        ...common,
        status: "sent",
        key: `worker:${channel}:sent:${now.providerId}`,
        providerId: now.providerId,
      });
      providerIds.push({ provider: deps.adapters[channel].provider, providerId: now.providerId });
    } else if (now.status === "suppressed") {
      transitions.push({ ...common, status: "suppressed", key: `worker:${channel}:suppressed` });
    } else if (now.status === "failed") {
      transitions.push({
        ...common,
        status: "failed",
        key: `worker:${channel}:failed:${job.attemptsMade}`,
        ...(now.error ? { code: now.error.code, reason: now.error.message } : {}),
      });
    }
  }
  const finished = verdict.type === "completed" || verdict.type === "failed";
  if (transitions.length === 0 && !finished) return;
  const submittedBy = (job.data as { submittedBy?: unknown } | null)?.submittedBy;
  try {
    const drained = await deps.delivery.store.recordWorker({
      notificationId,
      ...(typeof submittedBy === "string"
        ? { submittedBy }
        : { payload: (job.data ?? {}) as Record<string, unknown> }),
      createdAt: job.timestamp,
      attemptsMade: job.attemptsMade + 1,
      report: final,
      ...(finished
        ? {
            outcome: {
              status: verdict.type,
              finishedAt: at,
              ...(verdict.type === "failed" ? { failedReason: verdict.reason } : {}),
            },
          }
        : {}),
      transitions,
      providerIds,
    });
    for (const event of drained) {
      if (event.outcome === "changed") {
        await deps.delivery.updates.statusChanged(notificationId, event.transition);
      }
      // An early event of a message now known ours suppresses what it named.
      const { suppress, channel, source, at, providerId, event: name } = event.transition;
      if (!suppress) continue;
      for (const recipient of suppress.recipients) {
        await deps.delivery.updates.suppress({
          channel,
          recipient,
          reason: suppress.reason,
          source,
          ...(suppress.code ? { code: suppress.code } : {}),
          at,
          notificationId,
          cause: `${providerId ?? notificationId}:${name}`,
        });
      }
    }
  } catch (error) {
    deps.logger.warn(
      { notificationId, err: error instanceof Error ? error.message : String(error) },
      "could not write the delivery record",
    );
  }
}
