/**
 * What follows from a provider's report, in one place for the gateway's webhooks and the worker:
 * the record moves on (delivery/delivery-store.ts), the recipient may be suppressed
 * (delivery/suppressions.ts), and the facts the backend subscribes to are published through the
 * injected DeliveryEventSink (contract/delivery-events.ts), each with an id derived from the
 * fact so a repeat is recognised downstream. Publishing is best effort: a failure is logged and
 * counted, never turned into a failed webhook or a failed notification.
 */
import type { Channel } from "../contract/channels.js";
import { maskRecipient, normalizeRecipient } from "../contract/channels.js";
import {
  type DeliveryEvent,
  type DeliveryEventSink,
  deliveryEventId,
} from "../contract/delivery-events.js";
import type { Logger } from "../lib/logger.js";
import type { ApplyResult, DeliveryStore, DeliveryTransition } from "./delivery-store.js";
import type { SuppressionEntry, SuppressionList, SuppressionReason } from "./suppressions.js";

/**
 * The event a status change reports, if any: delivered, bounced, and failed or undelivered as
 * a provider reported it later (the worker's own send failures are its events, not these).
 */
export function notificationEventFor(
  notificationId: string,
  transition: DeliveryTransition,
): DeliveryEvent | undefined {
  if (transition.source === "worker") return undefined;
  const type =
    transition.status === "delivered"
      ? "notification.delivered"
      : transition.status === "bounced"
        ? "notification.bounced"
        : transition.status === "failed" || transition.status === "undelivered"
          ? "notification.failed"
          : undefined;
  if (!type) return undefined;
  const providerId = transition.providerId ?? "";
  return {
    id: deliveryEventId(type, notificationId, transition.channel, providerId),
    type,
    occurredAt: new Date(transition.at).toISOString(),
    data: {
      notificationId,
      channel: transition.channel,
      ...(providerId ? { providerId } : {}),
      ...(transition.code ? { code: transition.code } : {}),
      ...(transition.reason ? { reason: transition.reason } : {}),
    },
  };
}

/** A suppression to add: whom, why, and what identifies the fact (for the event's id). */
export interface SuppressionFact {
  channel: Channel;
  recipient: string;
  reason: SuppressionReason;
  source: string;
  code?: string;
  at: number;
  notificationId?: string;
  /** The provider's id of the report (an email id and event, an incoming message's SID). */
  cause: string;
}

export function suppressionEventFor(fact: SuppressionFact): DeliveryEvent {
  const recipient = normalizeRecipient(fact.channel, fact.recipient);
  return {
    id: deliveryEventId("recipient.suppressed", fact.channel, recipient, fact.cause),
    type: "recipient.suppressed",
    occurredAt: new Date(fact.at).toISOString(),
    data: {
      channel: fact.channel,
      recipient,
      reason: fact.reason,
      ...(fact.code ? { code: fact.code } : {}),
      ...(fact.notificationId ? { notificationId: fact.notificationId } : {}),
    },
  };
}

/** Counters either process keeps for what follows from a report. */
export interface DeliveryUpdateMetrics {
  recordSuppression(channel: Channel, reason: SuppressionReason): void;
  recordPublishFailure(type: string): void;
}

export function createDeliveryUpdates(deps: {
  store: DeliveryStore;
  suppressions: SuppressionList;
  events: DeliveryEventSink;
  logger: Logger;
  metrics: DeliveryUpdateMetrics;
}) {
  const { logger } = deps;

  async function publish(event: DeliveryEvent | undefined): Promise<void> {
    if (!event) return;
    try {
      await deps.events.publish(event);
    } catch (error) {
      deps.metrics.recordPublishFailure(event.type);
      logger.error(
        {
          eventId: event.id,
          type: event.type,
          err: error instanceof Error ? error.message : String(error),
        },
        "could not publish a delivery event",
      );
    }
  }

  /** Publishes the event of a status change that took effect. */
  async function statusChanged(notificationId: string, transition: DeliveryTransition) {
    await publish(notificationEventFor(notificationId, transition));
  }

  return {
    publish,
    statusChanged,

    /** Applies a provider's event to its message's record; publishes it when it took effect. */
    async providerEvent(
      provider: string,
      providerId: string,
      transition: DeliveryTransition,
    ): Promise<ApplyResult> {
      const result = await deps.store.applyProviderEvent(provider, providerId, transition);
      if (result.outcome === "changed" && result.notificationId) {
        await statusChanged(result.notificationId, transition);
      }
      return result;
    },

    /** Suppresses a recipient; publishes `recipient.suppressed` when it was not already. */
    async suppress(fact: SuppressionFact): Promise<boolean> {
      const entry: SuppressionEntry = {
        reason: fact.reason,
        source: fact.source,
        at: new Date(fact.at).toISOString(),
        ...(fact.code ? { code: fact.code } : {}),
        ...(fact.notificationId ? { notificationId: fact.notificationId } : {}),
      };
      const added = await deps.suppressions.add(fact.channel, fact.recipient, entry);
      if (!added) return false;
      deps.metrics.recordSuppression(fact.channel, fact.reason);
      logger.info(
        {
          channel: fact.channel,
          to: maskRecipient(fact.channel, fact.recipient),
          reason: fact.reason,
          code: fact.code,
          notificationId: fact.notificationId,
        },
        "recipient suppressed",
      );
      await publish(suppressionEventFor(fact));
      return true;
    },
  };
}

export type DeliveryUpdates = ReturnType<typeof createDeliveryUpdates>;
