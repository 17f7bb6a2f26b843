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
import type { DeliveryReport } from "../contract/delivery-report.js";
import {
  type ChannelStatus,
  DELIVERY_STATE_RANK,
  type DeliverySource,
  type DeliveryState,
  type DeliveryTimelineEntry,
} from "../contract/delivery-status.js";
import type { RedisConnection } from "../lib/redis.js";
import type { SuppressionReason } from "./suppressions.js";
import { redisScript } from "../lib/redis-script.js";
import { createNotificationIndex, searchFieldsOf } from "./notification-index.js";

/** One event for a channel, as the worker or a webhook reports it. */
export interface DeliveryTransition {
  channel: Channel;
  /** The status it means; none for an event that only goes in the timeline (a delay). */
  status?: DeliveryState;
  /** When it happened (ms). */
  at: number;
  source: DeliverySource;
  /** The provider's own name for it. */
  event: string;
  /** Identifies the event: the same key twice is recorded once. */
  key: string;
  code?: string;
  reason?: string;
  providerId?: string;
  /**
   * Recipients a provider's event suppresses (a Permanent bounce, a complaint). Kept with an
   * early event, which waits for the worker's record: applied once the message is known ours.
   */
  suppress?: { recipients: string[]; reason: SuppressionReason; code?: string };
}

/** What applying an event did: moved the status, only added to the timeline, or nothing. */
export type ApplyOutcome = "changed" | "recorded" | "duplicate";

export interface ApplyResult {
  outcome: ApplyOutcome | "pending";
  /** Unknown while pending (the worker has not recorded the message yet). */
  notificationId?: string;
  /** The status before, when it changed. */
  previous?: DeliveryState;
}

/** A notification's record, as `GET /notifications/{id}` reads it. */
export interface DeliveryRecord {
  notificationId: string;
  submittedBy?: string;
  createdAt?: number;
  attemptsMade?: number;
  /** The worker's delivery report after its last try (unparsed JSON). */
  report?: unknown;
  /** `cancelled` when a key cancelled it before it was sent (`cancelledAt`, `cancelledBy`). */
  outcome?: "completed" | "failed" | "cancelled";
  cancelledAt?: number;
  /** The id of the API key that cancelled it. */
  cancelledBy?: string;
  finishedAt?: number;
  failedReason?: string;
  channels: Partial<Record<Channel, ChannelStatus>>;
  timeline: DeliveryTimelineEntry[];
}

/** What the worker records after a try. */
export interface WorkerRecord {
  notificationId: string;
  submittedBy?: string;
  /** The job's data, as the worker read it: a direct producer's job is indexed from it. */
  payload?: Record<string, unknown>;
  createdAt: number;
  attemptsMade: number;
  report: DeliveryReport;
  /** Set when the notification finished. */
  outcome?: { status: "completed" | "failed"; finishedAt: number; failedReason?: string };
  transitions: DeliveryTransition[];
  /** Provider message ids to index (and whose early webhook events to apply now). */
  providerIds: Array<{ provider: string; providerId: string }>;
}

/** A webhook event applied when the worker recorded its message. */
export interface DrainedEvent {
  transition: DeliveryTransition;
  outcome: ApplyOutcome;
  previous?: DeliveryState;
}

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

/**
 * Applies one transition to a notification's record: once per `key`; into the timeline; and to
 * the channel's status only when it ranks above the current one (or, for the worker's own
 * word, when the current status is the worker's too: a retried channel's new outcome).
 */
const APPLY_FUNCTION = `
local function apply(statusKey, timelineKey, t, retention, maxTimeline)
  if redis.call('HSETNX', statusKey, 'seen:' .. t.key, '1') == 0 then
    return {'duplicate', ''}
  end
  redis.call('RPUSH', timelineKey, t.entry)
  redis.call('LTRIM', timelineKey, -maxTimeline, -1)
  redis.call('EXPIRE', timelineKey, retention)
  redis.call('EXPIRE', statusKey, retention)
  local rank = tonumber(t.rank) or 0
  if rank == 0 then return {'recorded', ''} end
  local field = t.channel .. '.'
  local current = tonumber(redis.call('HGET', statusKey, field .. 'rank') or '0')
  local previous = redis.call('HGET', statusKey, field .. 'status') or ''
  -- The worker's own word replaces its earlier one (an operator retried a failed channel);
  -- against a provider's, it follows the rank like any event.
  local retried = t.source == 'worker' and redis.call('HGET', statusKey, field .. 'source') == 'worker'
  if retried and previous == t.status then return {'recorded', ''} end
  if rank <= current and not retried then return {'recorded', ''} end
  redis.call('HSET', statusKey, field .. 'status', t.status, field .. 'rank', rank,
    field .. 'at', t.at, field .. 'source', t.source)
  if t.code then
    redis.call('HSET', statusKey, field .. 'code', t.code)
  else
    redis.call('HDEL', statusKey, field .. 'code')
  end
  if t.providerId then redis.call('HSET', statusKey, field .. 'providerId', t.providerId) end
  return {'changed', previous}
end
`;

/**
 * A webhook's event (gateway). KEYS: the provider id's index entry, its pending list. ARGV: the
 * record keys' prefix, the transition, retention, timeline size, pending TTL and size, index TTL.
 * Without an index entry the event waits in the pending list for the worker's record.
 */
const APPLY_PROVIDER_EVENT = redisScript(`${APPLY_FUNCTION}
local id = redis.call('GET', KEYS[1])
if not id then
  redis.call('RPUSH', KEYS[2], ARGV[2])
  redis.call('LTRIM', KEYS[2], -tonumber(ARGV[6]), -1)
  redis.call('EXPIRE', KEYS[2], ARGV[5])
  return {'pending', '', ''}
end
redis.call('EXPIRE', KEYS[1], ARGV[7])
local statusKey = ARGV[1] .. id
local result = apply(statusKey, statusKey .. ':timeline', cjson.decode(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]))
return {result[1], id, result[2]}
`);

/**
 * The worker's record of a try. KEYS: the record, its timeline, then an (index entry, pending
 * list) pair per provider id. ARGV: the notification id, the fields to set, the transitions,
 * retention, timeline size and index TTL. Indexes each provider id (unless another notification holds
 * it), then applies the events that waited for it; answers those (json, outcome, previous).
 */
const RECORD_WORKER = redisScript(`${APPLY_FUNCTION}
local retention = tonumber(ARGV[4])
local maxTimeline = tonumber(ARGV[5])
for field, value in pairs(cjson.decode(ARGV[2])) do
  redis.call('HSET', KEYS[1], field, value)
end
redis.call('EXPIRE', KEYS[1], retention)
for _, t in ipairs(cjson.decode(ARGV[3])) do
  apply(KEYS[1], KEYS[2], t, retention, maxTimeline)
end
local drained = {}
for i = 3, #KEYS, 2 do
  local holder = redis.call('GET', KEYS[i])
  if not holder then
    redis.call('SET', KEYS[i], ARGV[1], 'EX', ARGV[6])
    holder = ARGV[1]
  end
  if holder == ARGV[1] then
    redis.call('EXPIRE', KEYS[i], ARGV[6])
    local waiting = redis.call('LRANGE', KEYS[i + 1], 0, -1)
    redis.call('DEL', KEYS[i + 1])
    for _, json in ipairs(waiting) do
      local result = apply(KEYS[1], KEYS[2], cjson.decode(json), retention, maxTimeline)
      table.insert(drained, json)
      table.insert(drained, result[1])
      table.insert(drained, result[2])
    end
  end
end
return drained
`);

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
    // Once: the first time the worker records the job.
    if ((await redis.exists(recordKey(record.notificationId))) === 1) return;
    await searchIndex.add(
      record.notificationId,
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
