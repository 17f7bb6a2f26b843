import type { DeliveryEvent } from "../../contract/delivery-events.js";
import type { RedisConnection } from "../../lib/redis.js";
import { redisScript } from "../../lib/redis-script.js";

/**
 * Every published event, kept in Redis for EVENTS_RETENTION_DAYS so a replay can send it again
 * with its original id. Three keys beside the events queue (one Redis Cluster slot with it),
 * under `<prefix>:notification-events:event-log:`:
 * - `events`: hash, event id → the event's JSON as first published;
 * - `log`: sorted set, event id by the time it was recorded (what a replay's range selects);
 * - `queued`: sorted set, the ids whose delivery job was added. An event is queued once: a
 *   fact published again (a worker's retry, a provider's repeated callback) adds nothing.
 */
export interface EventLog {
  /**
   * Records the event unless known; answers the JSON to deliver (the first version recorded),
   * or undefined when its delivery is already queued.
   */
  record(event: DeliveryEvent, now?: number): Promise<string | undefined>;
  /** Notes that the event's delivery job is in the queue. */
  markQueued(id: string): Promise<void>;
  /** How many events were recorded between `from` and `to` (ms, inclusive). */
  count(from: number, to: number): Promise<number>;
  /** Events recorded between `from` and `to` (ms, inclusive), oldest first, at most `limit`. */
  range(from: number, to: number, limit: number): Promise<DeliveryEvent[]>;
}

/** Events read per command by `range`. */
const PAGE = 500;

/** Old entries removed per publish: trimming keeps pace with publishing and never blocks Redis. */
const TRIM_BATCH = 100;

// KEYS: events, log, queued. ARGV: id, json, now, cutoff, trim batch.
const RECORD = redisScript(`
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[4], 'LIMIT', 0, tonumber(ARGV[5]))
if #expired > 0 then
  redis.call('HDEL', KEYS[1], unpack(expired))
  redis.call('ZREM', KEYS[2], unpack(expired))
  redis.call('ZREM', KEYS[3], unpack(expired))
end
if redis.call('ZSCORE', KEYS[3], ARGV[1]) then return false end
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
  return ARGV[2]
end
return redis.call('HGET', KEYS[1], ARGV[1])`);

/** The event log under `keyPrefix` (the events queue's `<prefix>:<queue name>`). */
export function createEventLog(
  redis: RedisConnection,
  keyPrefix: string,
  retentionDays: number,
): EventLog {
  const keys = {
    // Not `:events`: BullMQ's own event stream has that name.
    events: `${keyPrefix}:event-log:events`,
    log: `${keyPrefix}:event-log:log`,
    queued: `${keyPrefix}:event-log:queued`,
  };
  const retentionMs = retentionDays * 24 * 60 * 60 * 1000;
  return {
    async record(event, now = Date.now()) {
      const stored = await RECORD(
        redis,
        [keys.events, keys.log, keys.queued],
        [event.id, JSON.stringify(event), now, now - retentionMs, TRIM_BATCH],
      );
      return typeof stored === "string" ? stored : undefined;
    },
    async markQueued(id) {
      await redis.zadd(keys.queued, Date.now(), id);
    },
    count(from, to) {
      return redis.zcount(keys.log, from, to);
    },
    async range(from, to, limit) {
      const ids = await redis.zrangebyscore(keys.log, from, to, "LIMIT", 0, limit);
      const events: DeliveryEvent[] = [];
      // In pages: one command stays small enough for a request path's command timeout.
      for (let start = 0; start < ids.length; start += PAGE) {
        const values = await redis.hmget(keys.events, ...ids.slice(start, start + PAGE));
        for (const value of values) if (value) events.push(JSON.parse(value) as DeliveryEvent);
      }
      return events;
    },
  };
}
