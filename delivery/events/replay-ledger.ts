import type { RedisConnection } from "../../lib/redis.js";
import { redisScript } from "../../lib/redis-script.js";

/** One replay of a window, as the first request for it answered. */
export interface ReplayRecord {
  /** The replay's id: part of each replayed job's id, answered again for the same window. */
  id: string;
  /** Events it queued. */
  replayed: number;
  /** The window as first requested (ISO 8601). */
  from: string;
  to: string;
}

/** What a claim decided. */
export type ReplayClaim =
  | { outcome: "claimed" }
  | { outcome: "repeated"; replay: ReplayRecord }
  | {
      outcome: "limited";
      retryAfterSeconds: number;
      /** Events replays queued in the last hour. */
      queuedLastHour: number;
      /** Events this replay would have queued. */
      count: number;
    };

/**
 * Which windows were replayed, and how many events replays queued in the last hour, across the
 * deployment: a window replays once, and replays queue at most `limitPerHour` events an hour.
 * Two kinds of keys beside the event log (one Redis Cluster slot with it):
 * - `replay:<from ms>-<to ms>`: string, the window's ReplayRecord, kept for the event retention
 *   (older windows hold no events any more);
 * - `replay-quota`: sorted set, `<replay id>:<events>` by the time it was queued, the last hour.
 */
export interface ReplayLedger {
  /** The replay of exactly this window, if one was made. */
  find(from: number, to: number): Promise<ReplayRecord | undefined>;
  /**
   * Claims the window for `replay` and counts its events against the hour, atomically: a
   * window claimed already answers its replay; a count past the limit claims nothing.
   */
  claim(from: number, to: number, replay: ReplayRecord, now?: number): Promise<ReplayClaim>;
  /** Gives a claim back (its jobs could not be queued), so the window can be replayed again. */
  release(from: number, to: number, replay: ReplayRecord): Promise<void>;
}

const HOUR_MS = 60 * 60 * 1000;

// KEYS: window, quota. ARGV: record JSON, events, now, hour, limit, retention ms, quota member.
// Past the limit it answers when enough of the hour's replays age out for this one to fit.
const CLAIM = redisScript(`
local existing = redis.call('GET', KEYS[1])
if existing then return {'repeated', existing} end
local count = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local hour = tonumber(ARGV[4])
local limit = tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - hour)
local entries = redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES')
local used = 0
for i = 1, #entries, 2 do used = used + tonumber(string.match(entries[i], ':(%d+)$')) end
if count > 0 and used + count > limit then
  local freed = 0
  for i = 1, #entries, 2 do
    freed = freed + tonumber(string.match(entries[i], ':(%d+)$'))
    if used - freed + count <= limit then
      return {'limited', tostring(tonumber(entries[i + 1]) + hour - now), tostring(used)}
    end
  end
  return {'limited', tostring(hour), tostring(used)}
end
if count > 0 then
  redis.call('ZADD', KEYS[2], now, ARGV[7])
  redis.call('PEXPIRE', KEYS[2], hour)
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[6])
return {'claimed'}`);

/** The replay ledger beside the event log under `keyPrefix` (the events queue's). */
export function createReplayLedger(
  redis: RedisConnection,
  keyPrefix: string,
  options: { limitPerHour: number; retentionDays: number },
): ReplayLedger {
  const windowKey = (from: number, to: number) => `${keyPrefix}:event-log:replay:${from}-${to}`;
  const quotaKey = `${keyPrefix}:event-log:replay-quota`;
  const quotaMember = (replay: ReplayRecord) => `${replay.id}:${replay.replayed}`;
  const retentionMs = options.retentionDays * 24 * HOUR_MS;
  return {
    async find(from, to) {
      const json = await redis.get(windowKey(from, to));
      return json === null ? undefined : (JSON.parse(json) as ReplayRecord);
    },
    async claim(from, to, replay, now = Date.now()) {
      const [outcome, value, used] = (await CLAIM(
        redis,
        [windowKey(from, to), quotaKey],
        [
          JSON.stringify(replay),
          replay.replayed,
          now,
          HOUR_MS,
          options.limitPerHour,
          retentionMs,
          quotaMember(replay),
        ],
      )) as [string, string?, string?];
      if (outcome === "repeated") {
        return { outcome, replay: JSON.parse(value ?? "{}") as ReplayRecord };
      }
      if (outcome === "limited") {
        return {
          outcome,
          retryAfterSeconds: Math.max(1, Math.ceil(Number(value) / 1000)),
          queuedLastHour: Number(used),
          count: replay.replayed,
        };
      }
      return { outcome: "claimed" };
    },
    async release(from, to, replay) {
      await redis.multi().del(windowKey(from, to)).zrem(quotaKey, quotaMember(replay)).exec();
    },
  };
}
