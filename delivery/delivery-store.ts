/**
 * The final delivery status of each notification, kept in Redis beside the queue with its own
 * retention (DELIVERY_STATUS_RETENTION_DAYS), so it outlives the BullMQ job (trimmed after a
 * day). The worker writes what it did (`sent`, `suppressed`, `failed`) and the job's outcome; the
 * gateway's provider webhooks move each channel on. Both go through the Lua scripts below, so a
 * status only moves forward and the same event twice is recorded once, whichever process and
 * replica sees it.
 *
 * Keys, all under the queue's prefix (`{prefix}:{queue}`, which carries the hash tag on a Redis
 * Cluster, so every key of a script is in one slot):
 * - `…:delivery:{notificationId}`: a hash: the job's outcome and report, each channel's status
 *   (`email.status`, `email.rank`, `email.at`, `email.code`, `email.providerId`) and a
 *   `seen:{event}` field per event applied (the duplicate check);
 * - `…:delivery:{notificationId}:timeline`: a list of JSON timeline entries, the newest last;
 * - `…:provider-id:{provider}:{providerId}`: the provider's message id → the notification (the
 *   worker's claim for Twilio SIDs, written here for Resend's email ids);
 * - `…:delivery-pending:{provider}:{providerId}`: webhook events that arrived before the worker
 *   recorded the message (a provider can call back before its API answer reaches us); the
 *   worker applies them when it records the message.
 */
import type { Channel } from "../contract/channels.js";
import {
  type ChannelStatus,
  DELIVERY_STATE_RANK,
  type DeliveryState,
  type DeliveryTimelineEntry,
} from "../contract/delivery-status.js";
import type { RedisConnection } from "../lib/redis.js";
import type {
  ApplyOutcome,
  ApplyResult,
  DeliveryRecord,
  DeliveryTransition,
  DrainedEvent,
  WorkerRecord,
} from "./delivery-record.js";
import { APPLY_PROVIDER_EVENT, RECORD_WORKER } from "./delivery-scripts.js";

export type {
  ApplyOutcome,
  ApplyResult,
  DeliveryRecord,
  DeliveryTransition,
  DrainedEvent,
  WorkerRecord,
};

import { createNotificationIndex, searchFieldsOf } from "./notification-index.js";

/** Timeline entries kept per notification (the oldest go first). */
export const MAX_TIMELINE_ENTRIES = 50;
/** How long an early webhook event waits for the worker's record of its message. */
export const PENDING_TTL_SECONDS = 60 * 60;
/** Early events kept per message. */
const MAX_PENDING = 20;
/**
 * The provider-id index is kept as long as the record, and never less than the worker's own
 * claims keep it (a week, as long as failed jobs: create-worker.ts).
 */
const MIN_INDEX_TTL_SECONDS = 7 * 24 * 60 * 60;

/** The transition as the scripts take it: ISO time, rank, and its timeline entry ready-made. */
function forLua(transition: DeliveryTransition): Record<string, unknown> {
  const at = new Date(transition.at).toISOString();
  const entry: DeliveryTimelineEntry = {
    at,
    channel: transition.channel,
    source: transition.source,
    event: transition.event,
    ...(transition.status ? { status: transition.status } : {}),
    ...(transition.code ? { code: transition.code } : {}),
    ...(transition.reason ? { reason: transition.reason } : {}),
  };
  return {
    channel: transition.channel,
    source: transition.source,
    key: transition.key,
    at,
    rank: transition.status ? DELIVERY_STATE_RANK[transition.status] : 0,
    ...(transition.status ? { status: transition.status } : {}),
    ...(transition.code ? { code: transition.code } : {}),
    ...(transition.providerId ? { providerId: transition.providerId } : {}),
    entry: JSON.stringify(entry),
    transition,
  };
}

function asState(value: string | undefined): DeliveryState | undefined {
  return value && value in DELIVERY_STATE_RANK ? (value as DeliveryState) : undefined;
}

/** The provider-id index's key: the provider's message id → the notification that sent it. */
export function providerIdKey(keyPrefix: string, provider: string, providerId: string): string {
  return `${keyPrefix}:provider-id:${provider}:${providerId}`;
}

/** The delivery status store of one queue; builds no connection and sends nothing until used. */
export function createDeliveryStore(options: {
  redis: RedisConnection;
  /** The queue's qualified name, `{prefix}:{queue}`: its keys live beside the queue's. */
  keyPrefix: string;
  retentionSeconds: number;
}) {
  const { redis, keyPrefix, retentionSeconds } = options;
  const indexTtlSeconds = Math.max(retentionSeconds, MIN_INDEX_TTL_SECONDS);
  const recordPrefix = `${keyPrefix}:delivery:`;
  const recordKey = (id: string) => `${recordPrefix}${id}`;
  const timelineKey = (id: string) => `${recordPrefix}${id}:timeline`;
  const indexKey = (provider: string, providerId: string) =>
    providerIdKey(keyPrefix, provider, providerId);
  const pendingKey = (provider: string, providerId: string) =>
    `${keyPrefix}:delivery-pending:${provider}:${providerId}`;
  const searchIndex = createNotificationIndex({ redis, keyPrefix, retentionSeconds });

  /**
   * Indexes a direct producer's job (the gateway indexes its own at acceptance) when the worker
   * first records it, so that admin keys find it by order, recipient and time.
   */
  async function indexDirectJob(record: WorkerRecord): Promise<void> {
    if (record.submittedBy || !record.payload) return;
    await searchIndex.addOnce(
      record.notificationId,
      recordKey(record.notificationId),
      searchFieldsOf({ ...record.payload, submittedBy: undefined }, record.createdAt),
    );
  }

  return {
    /** Applies a provider's event for its message `providerId` (webhooks). */
    async applyProviderEvent(
      provider: string,
      providerId: string,
      transition: DeliveryTransition,
    ): Promise<ApplyResult> {
      const [outcome, notificationId, previous] = (await APPLY_PROVIDER_EVENT(
        redis,
        [indexKey(provider, providerId), pendingKey(provider, providerId)],
        [
          recordPrefix,
          JSON.stringify(forLua(transition)),
          retentionSeconds,
          MAX_TIMELINE_ENTRIES,
          PENDING_TTL_SECONDS,
          MAX_PENDING,
          indexTtlSeconds,
        ],
      )) as [string, string, string];
      if (outcome === "pending") return { outcome };
      return {
        outcome: outcome as ApplyOutcome,
        notificationId,
        ...(asState(previous) ? { previous: asState(previous) } : {}),
      };
    },

    /** Records a try of the worker; answers the webhook events that had waited for it. */
    async recordWorker(record: WorkerRecord): Promise<DrainedEvent[]> {
      await indexDirectJob(record);
      const fields: Record<string, string> = {
        createdAt: String(record.createdAt),
        attemptsMade: String(record.attemptsMade),
        report: JSON.stringify(record.report),
      };
      if (record.submittedBy) fields.submittedBy = record.submittedBy;
      if (record.outcome) {
        fields.outcome = record.outcome.status;
        fields.finishedAt = String(record.outcome.finishedAt);
        if (record.outcome.failedReason) fields.failedReason = record.outcome.failedReason;
      }
      const pairs = record.providerIds.flatMap(({ provider, providerId }) => [
        indexKey(provider, providerId),
        pendingKey(provider, providerId),
      ]);
      const id = record.notificationId;
      const drained = (await RECORD_WORKER(
        redis,
        [recordKey(id), timelineKey(id), ...pairs],
        [
          id,
          JSON.stringify(fields),
          JSON.stringify(record.transitions.map(forLua)),
          retentionSeconds,
          MAX_TIMELINE_ENTRIES,
          indexTtlSeconds,
        ],
      )) as string[];
      const events: DrainedEvent[] = [];
      for (let index = 0; index < drained.length; index += 3) {
        const json = drained[index] ?? "{}";
        const transition = (JSON.parse(json) as { transition: DeliveryTransition }).transition;
        const previous = asState(drained[index + 2]);
        events.push({
          transition,
          outcome: (drained[index + 1] ?? "recorded") as ApplyOutcome,
          ...(previous ? { previous } : {}),
        });
      }
      return events;
    },

    /** A notification's record, or undefined when there is none (never sent, or expired). */
    async read(notificationId: string): Promise<DeliveryRecord | undefined> {
      const [hash, timeline] = await Promise.all([
        redis.hgetall(recordKey(notificationId)),
        redis.lrange(timelineKey(notificationId), 0, -1),
      ]);
      if (!hash || Object.keys(hash).length === 0) return undefined;
      const channels: Partial<Record<Channel, ChannelStatus>> = {};
      for (const [field, value] of Object.entries(hash)) {
        const match = /^([a-z]+)\.status$/.exec(field);
        const status = asState(value);
        if (!match?.[1] || !status) continue;
        const channel = match[1] as Channel;
        channels[channel] = {
          status,
          at: hash[`${channel}.at`] ?? "",
          ...(hash[`${channel}.code`] ? { code: hash[`${channel}.code`] } : {}),
          ...(hash[`${channel}.providerId`] ? { providerId: hash[`${channel}.providerId`] } : {}),
        };
      }
      const number = (value: string | undefined) =>
        value === undefined || Number.isNaN(Number(value)) ? undefined : Number(value);
      let report: unknown;
      try {
        report = hash.report ? JSON.parse(hash.report) : undefined;
      } catch {
        report = undefined;
      }
      const outcome =
        hash.outcome === "completed" || hash.outcome === "failed" || hash.outcome === "cancelled"
          ? hash.outcome
          : undefined;
      return {
        notificationId,
        ...(hash.submittedBy ? { submittedBy: hash.submittedBy } : {}),
        ...(number(hash.createdAt) !== undefined ? { createdAt: number(hash.createdAt) } : {}),
        ...(number(hash.attemptsMade) !== undefined
          ? { attemptsMade: number(hash.attemptsMade) }
          : {}),
        ...(report !== undefined ? { report } : {}),
        ...(outcome ? { outcome } : {}),
        ...(number(hash.cancelledAt) !== undefined
          ? { cancelledAt: number(hash.cancelledAt) }
          : {}),
        ...(hash.cancelledBy ? { cancelledBy: hash.cancelledBy } : {}),
        ...(number(hash.finishedAt) !== undefined ? { finishedAt: number(hash.finishedAt) } : {}),
        ...(hash.failedReason ? { failedReason: hash.failedReason } : {}),
        channels,
        timeline: timeline.flatMap((json) => {
          try {
            return [JSON.parse(json) as DeliveryTimelineEntry];
          } catch {
            return [];
          }
        }),
      };
    },
  };
}

export type DeliveryStore = ReturnType<typeof createDeliveryStore>;
