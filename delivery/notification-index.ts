/**
 * The search indexes of notifications, kept beside their delivery records (delivery-store.ts)
 * with the same retention, so a list or a search reads one page of an index instead of scanning
 * the queue's jobs. Keys, all under the queue's prefix (`{prefix}:{queue}`, one Cluster slot):
 * - `…:search:all`: a sorted set, every notification's id scored by its creation time (ms);
 * - `…:search:key:{keyId}`: the same, for the notifications one API key submitted;
 * - `…:search:order:{sha1}`: for one order id (hashed: the key name stays short and plain);
 * - `…:search:recipient:{sha1}`: for one email address (lower-cased) or E.164 number, hashed
 *   so that no contact detail is a key name;
 * - `…:scheduled:{keyId}`: a sorted set of a key's scheduled notifications by send time, which
 *   the per-key cap counts.
 * Each write drops entries older than the retention from the sets it touches and renews their
 * TTL, so an index lives as long as its newest notification's record.
 */
import { createHash } from "node:crypto";
import type { RedisConnection } from "../lib/redis.js";
import { redisScript } from "../lib/redis-script.js";

/** What a notification is found by: its submitter, order and recipients. */
export interface SearchFields {
  /** The API key's id; none for a direct producer's job (only admin keys list those). */
  submittedBy?: string;
  order?: string;
  recipients: string[];
  /** Creation time (ms): the score in every index. */
  createdAt: number;
}

/** One index entry read by a search: the notification, its score, and whether it matched. */
export interface IndexRow {
  id: string;
  score: number;
  matches: boolean;
}

/** A page of rows read from the most selective index, and how many entries that index has in range. */
export interface IndexPage {
  /** Which of the query's indexes was read (its position), for the next page to read it again. */
  driver: number;
  /** Entries of that index in the time range. */
  driverCount: number;
  rows: IndexRow[];
}

/** Sorted-set entries the scripts below add, trimmed to the retention and renewed. */
const INDEX_FUNCTION = `
local function index(key, id, createdAt, cutoff, ttl)
  redis.call('ZADD', key, 'NX', createdAt, id)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. cutoff)
  redis.call('EXPIRE', key, ttl)
end
`;

/**
 * Accepts a notification (gateway). KEYS: its record, its timeline, the key's scheduled set, then
 * its indexes. ARGV: id, createdAt, cutoff, retention (s), sendAt (0: now), cap, now, the record's
 * fields (JSON), the timeline entry, the timeline's size, the scheduled set's TTL. Refuses a
 * scheduled one past the cap with {'full', the earliest send time}.
 */
const ACCEPT = redisScript(`${INDEX_FUNCTION}
local id = ARGV[1]
local sendAt = tonumber(ARGV[5])
if sendAt > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[7])
  if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[6]) then
    local first = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
    return {'full', first[2] or ''}
  end
  redis.call('ZADD', KEYS[3], sendAt, id)
  redis.call('EXPIRE', KEYS[3], ARGV[11])
end
for field, value in pairs(cjson.decode(ARGV[8])) do
  redis.call('HSET', KEYS[1], field, value)
end
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('RPUSH', KEYS[2], ARGV[9])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[10]), -1)
redis.call('EXPIRE', KEYS[2], ARGV[4])
for i = 4, #KEYS do index(KEYS[i], id, ARGV[2], ARGV[3], ARGV[4]) end
return {'ok', ''}
`);

/** Indexes a notification accepted elsewhere (a direct producer's). KEYS: its indexes. */
const INDEX = redisScript(`${INDEX_FUNCTION}
for i = 1, #KEYS do index(KEYS[i], ARGV[1], ARGV[2], ARGV[3], ARGV[4]) end
return 1
`);

/**
 * Records a cancel. KEYS: the record, its timeline, the submitter's scheduled set, its indexes.
 * ARGV: id, createdAt, cutoff, retention (s), the record's fields (JSON), the timeline entry, the
 * timeline's size. Indexes it too: a direct producer's job has no index entries until now.
 */
const CANCEL = redisScript(`${INDEX_FUNCTION}
for field, value in pairs(cjson.decode(ARGV[5])) do
  redis.call('HSET', KEYS[1], field, value)
end
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('RPUSH', KEYS[2], ARGV[6])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[7]), -1)
redis.call('EXPIRE', KEYS[2], ARGV[4])
redis.call('ZREM', KEYS[3], ARGV[1])
for i = 4, #KEYS do index(KEYS[i], ARGV[1], ARGV[2], ARGV[3], ARGV[4]) end
return 1
`);

/** Takes back an acceptance whose job could not be added. KEYS as ACCEPT's; ARGV: the id. */
const WITHDRAW = redisScript(`
redis.call('DEL', KEYS[1], KEYS[2])
for i = 3, #KEYS do redis.call('ZREM', KEYS[i], ARGV[1]) end
return 1
`);

/**
 * One page of a search. KEYS: the query's indexes. ARGV: the newest score, the oldest, how many
 * entries at the newest score to skip (those already read), how many to read, and which index
 * to read (0: the one with the fewest entries in range). Reads that index newest first and
 * checks each entry's membership in the others; answers {driver, count, id, score, match, …}.
 */
const SEARCH_PAGE = redisScript(`
local driver = tonumber(ARGV[5])
local count = -1
if driver == 0 then
  for i = 1, #KEYS do
    local n = redis.call('ZCOUNT', KEYS[i], ARGV[2], ARGV[1])
    if count < 0 or n < count then count = n; driver = i end
  end
else
  count = redis.call('ZCOUNT', KEYS[driver], ARGV[2], ARGV[1])
end
local rows = redis.call('ZRANGE', KEYS[driver], ARGV[1], ARGV[2], 'BYSCORE', 'REV',
  'LIMIT', ARGV[3], ARGV[4], 'WITHSCORES')
local out = {driver, count}
for i = 1, #rows, 2 do
  local match = 1
  for k = 1, #KEYS do
    if k ~= driver and not redis.call('ZSCORE', KEYS[k], rows[i]) then match = 0; break end
  end
  table.insert(out, rows[i])
  table.insert(out, rows[i + 1])
  table.insert(out, match)
end
return out
`);

/** A value's index-key form: hashed, so that no order id or contact detail is a key name. */
function hashed(value: string): string {
  return createHash("sha1").update(value.trim().toLowerCase()).digest("hex");
}

/** How long a key's scheduled set is kept after its last write: past the furthest send time. */
const SCHEDULED_TTL_SECONDS = 31 * 24 * 60 * 60;

/** The indexes of one queue; builds no connection and sends nothing until used. */
export function createNotificationIndex(options: {
  redis: RedisConnection;
  /** The queue's qualified name, `{prefix}:{queue}`. */
  keyPrefix: string;
  retentionSeconds: number;
}) {
  const { redis, keyPrefix, retentionSeconds } = options;
  const keys = {
    all: () => `${keyPrefix}:search:all`,
    key: (keyId: string) => `${keyPrefix}:search:key:${keyId}`,
    order: (order: string) => `${keyPrefix}:search:order:${hashed(order)}`,
    recipient: (recipient: string) => `${keyPrefix}:search:recipient:${hashed(recipient)}`,
    scheduled: (keyId: string) => `${keyPrefix}:scheduled:${keyId}`,
    record: (id: string) => `${keyPrefix}:delivery:${id}`,
    timeline: (id: string) => `${keyPrefix}:delivery:${id}:timeline`,
  };
  const indexesOf = (fields: SearchFields) => [
    keys.all(),
    ...(fields.submittedBy ? [keys.key(fields.submittedBy)] : []),
    ...(fields.order ? [keys.order(fields.order)] : []),
    ...fields.recipients.map(keys.recipient),
  ];
  const cutoff = (now: number) => now - retentionSeconds * 1000;
  const acceptKeys = (id: string, submittedBy: string, fields: SearchFields) => [
    keys.record(id),
    keys.timeline(id),
    keys.scheduled(submittedBy),
    ...indexesOf(fields),
  ];

  return {
    keys,

    /**
     * Records a notification the gateway accepts, before its job is added: its record (with the
     * `accepted` timeline entry) and its index entries, and for a scheduled one its place under
     * the key's cap. Answers `full` (and when the key's earliest scheduled one is due) past it.
     */
    async accept(input: {
      id: string;
      submittedBy: string;
      fields: SearchFields;
      record: Record<string, string>;
      timelineEntry: string;
      maxTimeline: number;
      sendAt?: number;
      maxScheduled: number;
      now: number;
    }): Promise<{ accepted: true } | { accepted: false; earliestSendAt: number }> {
      const [result, earliest] = (await ACCEPT(
        redis,
        acceptKeys(input.id, input.submittedBy, input.fields),
        [
          input.id,
          input.fields.createdAt,
          cutoff(input.now),
          retentionSeconds,
          input.sendAt ?? 0,
          input.maxScheduled,
          input.now,
          JSON.stringify(input.record),
          input.timelineEntry,
          input.maxTimeline,
          SCHEDULED_TTL_SECONDS,
        ],
      )) as [string, string];
      if (result === "full") return { accepted: false, earliestSendAt: Number(earliest) };
      return { accepted: true };
    },

    /** Takes an acceptance back when its job could not be added: nothing points at no job. */
    async withdraw(id: string, submittedBy: string, fields: SearchFields): Promise<void> {
      await WITHDRAW(redis, acceptKeys(id, submittedBy, fields), [id]);
    },

    /** Indexes a notification without a gateway acceptance (a direct producer's job). */
    async add(id: string, fields: SearchFields, now = Date.now()): Promise<void> {
      await INDEX(redis, indexesOf(fields), [id, fields.createdAt, cutoff(now), retentionSeconds]);
    },

    /**
     * Records that a key cancelled a notification: its record says so (and keeps the report it
     * had) for the retention, the timeline gets the entry, and its place under the cap is freed.
     */
    async cancel(input: {
      id: string;
      fields: SearchFields;
      record: Record<string, string>;
      timelineEntry: string;
      maxTimeline: number;
      now: number;
    }): Promise<void> {
      const { id, fields } = input;
      await CANCEL(
        redis,
        [
          keys.record(id),
          keys.timeline(id),
          keys.scheduled(fields.submittedBy ?? "direct"),
          ...indexesOf(fields),
        ],
        [
          id,
          fields.createdAt,
          cutoff(input.now),
          retentionSeconds,
          JSON.stringify(input.record),
          input.timelineEntry,
          input.maxTimeline,
        ],
      );
    },

    /** Adds a gateway entry (a retry) to a notification's timeline, kept for the retention. */
    async note(id: string, timelineEntry: string, maxTimeline: number): Promise<void> {
      await redis
        .multi()
        .rpush(keys.timeline(id), timelineEntry)
        .ltrim(keys.timeline(id), -maxTimeline, -1)
        .expire(keys.timeline(id), retentionSeconds)
        .exec();
    },

    /** Reads up to `count` entries of the most selective of `indexes`, newest first. */
    async page(query: {
      indexes: string[];
      newest: number;
      oldest: number;
      skip: number;
      count: number;
      driver: number;
    }): Promise<IndexPage> {
      const reply = (await SEARCH_PAGE(redis, query.indexes, [
        query.newest,
        query.oldest,
        query.skip,
        query.count,
        query.driver,
      ])) as Array<string | number>;
      const rows: IndexRow[] = [];
      for (let i = 2; i < reply.length; i += 3) {
        rows.push({
          id: String(reply[i]),
          score: Number(reply[i + 1]),
          matches: Number(reply[i + 2]) === 1,
        });
      }
      return { driver: Number(reply[0]), driverCount: Number(reply[1]), rows };
    },
  };
}

export type NotificationIndex = ReturnType<typeof createNotificationIndex>;

/** What a notification's payload is found by. */
export function searchFieldsOf(
  payload: { order?: unknown; to?: unknown; phone?: unknown; submittedBy?: unknown },
  createdAt: number,
): SearchFields {
  const text = (value: unknown) => (typeof value === "string" && value !== "" ? value : undefined);
  const order = text(payload.order);
  const submittedBy = text(payload.submittedBy);
  return {
    ...(submittedBy ? { submittedBy } : {}),
    ...(order ? { order } : {}),
    recipients: [text(payload.to), text(payload.phone)].filter(
      (value): value is string => value !== undefined,
    ),
    createdAt,
  };
}
