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
import { ACCEPT, CANCEL, INDEX, SEARCH_PAGE, WITHDRAW } from "./notification-index-scripts.js";

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

    /**
     * Indexes a notification without a gateway acceptance (a direct producer's job), unless
     * `recordKey`, its delivery record, exists: it was indexed when that was first written.
     */
    async addOnce(id: string, recordKey: string, fields: SearchFields, now = Date.now()) {
      const keys = [recordKey, ...indexesOf(fields)];
      await INDEX(redis, keys, [id, fields.createdAt, cutoff(now), retentionSeconds]);
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
