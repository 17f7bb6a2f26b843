import { randomUUID } from "node:crypto";
import { Queue } from "bullmq";
import type { DeliveryEvent, DeliveryEventSink } from "../../contract/delivery-events.js";
import {
  DELIVERY_EVENTS_QUEUE,
  type DeliveryEventJob,
  deliveryEventJobOptions,
} from "../../contract/delivery-events-queue.js";
import type { RedisConnection } from "../../lib/redis.js";
import { DEFAULT_REPLAY_LIMIT_PER_HOUR } from "./env.js";
import { createEventLog, type EventLog } from "./event-log.js";
import {
  createReplayLedger,
  type ReplayClaim,
  type ReplayLedger,
  type ReplayRecord,
} from "./replay-ledger.js";

/** Jobs added per command by a replay. */
const REPLAY_PAGE = 500;

/** Publishes events to the events queue, and replays the ones it kept. */
export interface EventPublisher extends DeliveryEventSink {
  /** How many kept events were recorded between `from` and `to`. */
  countBetween(from: Date, to: Date): Promise<number>;
  /** Kept events recorded between `from` and `to`, oldest first, at most `limit`. */
  eventsBetween(from: Date, to: Date, limit: number): Promise<DeliveryEvent[]>;
  /** Events replays may queue per hour across the deployment (EVENTS_REPLAY_LIMIT_PER_HOUR). */
  readonly replayLimitPerHour: number;
  /** The replay of exactly this window, if one was made. */
  findReplay(from: Date, to: Date): Promise<ReplayRecord | undefined>;
  /**
   * Queues `events`, the window's, for delivery again with their original ids (the backend
   * deduplicates), once per window and within the hourly limit: a window replayed already
   * answers that replay and queues nothing; past the limit nothing is queued.
   */
  replay(
    from: Date,
    to: Date,
    events: readonly DeliveryEvent[],
  ): Promise<
    Exclude<ReplayClaim, { outcome: "claimed" }> | { outcome: "queued"; replay: ReplayRecord }
  >;
}

export interface EventPublisherOptions {
  queue: Queue<DeliveryEventJob>;
  log: EventLog;
  replays: ReplayLedger;
  replayLimitPerHour: number;
  retentionDays: number;
}

/**
 * The real DeliveryEventSink: records each event in the log, then adds one delivery job. An
 * event published again is queued again only if its first job was never added (a crash
 * between the two): the log says which. The job id is the event id, so two producers
 * publishing the same fact at the same instant still add one job.
 */
export function createEventPublisher(options: EventPublisherOptions): EventPublisher {
  const { queue, log, replays } = options;
  const retentionSeconds = options.retentionDays * 24 * 60 * 60;
  return {
    async publish(event) {
      const json = await log.record(event);
      if (json === undefined) return;
      const stored = JSON.parse(json) as DeliveryEvent;
      await queue.add(
        stored.type,
        { event: stored },
        deliveryEventJobOptions(stored.id, retentionSeconds),
      );
      await log.markQueued(stored.id);
    },
    countBetween(from, to) {
      return log.count(from.getTime(), to.getTime());
    },
    eventsBetween(from, to, limit) {
      return log.range(from.getTime(), to.getTime(), limit);
    },
    replayLimitPerHour: options.replayLimitPerHour,
    findReplay(from, to) {
      return replays.find(from.getTime(), to.getTime());
    },
    async replay(from, to, events) {
      const replay: ReplayRecord = {
        id: randomUUID(),
        replayed: events.length,
        from: from.toISOString(),
        to: to.toISOString(),
      };
      const claim = await replays.claim(from.getTime(), to.getTime(), replay);
      if (claim.outcome !== "claimed") return claim;
      try {
        // In pages: one MULTI stays small enough for a request path's command timeout.
        for (let start = 0; start < events.length; start += REPLAY_PAGE) {
          await queue.addBulk(
            events.slice(start, start + REPLAY_PAGE).map((event) => ({
              name: event.type,
              data: { event },
              // A job id of its own per replay (a delivered event's job may still be kept), the
              // event's id unchanged inside: that is the webhook-id the backend sees.
              opts: deliveryEventJobOptions(`${event.id}-replay-${replay.id}`, retentionSeconds),
            })),
          );
        }
      } catch (error) {
        // Given back so the window can be replayed once Redis answers; pages already added are
        // the same events under the same webhook-ids, which the backend deduplicates.
        await replays.release(from.getTime(), to.getTime(), replay).catch(() => {});
        throw error;
      }
      return { outcome: "queued", replay };
    },
  };
}

/** A publisher and its queue, over `connection` under the notifications queue's prefix. */
export function openEventPublisher(options: {
  connection: RedisConnection;
  prefix: string;
  retentionDays: number;
  /** Events replays may queue per hour (EVENTS_REPLAY_LIMIT_PER_HOUR); the schema's default unset. */
  replayLimitPerHour?: number;
  /** Overrides the queue name; tests use a private one. */
  queueName?: string;
}): { publisher: EventPublisher; queue: Queue<DeliveryEventJob> } {
  const queueName = options.queueName ?? DELIVERY_EVENTS_QUEUE;
  const queue = new Queue<DeliveryEventJob>(queueName, {
    connection: options.connection,
    prefix: options.prefix,
  });
  const keyPrefix = `${options.prefix}:${queueName}`;
  const log = createEventLog(options.connection, keyPrefix, options.retentionDays);
  const replayLimitPerHour = options.replayLimitPerHour ?? DEFAULT_REPLAY_LIMIT_PER_HOUR;
  const replays = createReplayLedger(options.connection, keyPrefix, {
    limitPerHour: replayLimitPerHour,
    retentionDays: options.retentionDays,
  });
  return {
    publisher: createEventPublisher({
      queue,
      log,
      replays,
      replayLimitPerHour,
      retentionDays: options.retentionDays,
    }),
    queue,
  };
}
