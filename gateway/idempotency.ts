import { hash } from "node:crypto";
import type { RedisConnection } from "../lib/redis.js";
import { redisScript } from "../lib/redis-script.js";

/** How long an `Idempotency-Key` is remembered after its notification was accepted. */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;
/**
 * How long a claim lives before its notification is confirmed queued. Short, so a gateway that
 * dies mid-request does not block the key for a day; the retry then re-adds under the same
 * deterministic job id, which BullMQ ignores if the first add went through.
 */
const PENDING_TTL_SECONDS = 10;

/** What a request with an `Idempotency-Key` should do. */
export type IdempotencyClaim =
  /** Claimed; `jobExists` when a job under the key's id is still kept (the record had expired). */
  | { kind: "new"; jobExists: boolean }
  | { kind: "replay"; id: string }
  | { kind: "in_flight" }
  | { kind: "mismatch" };

interface Stored {
  fingerprint: string;
  id: string;
  state: "pending" | "queued";
}

/** One-shot hashing (as in api-keys.ts): no Hash object per request. */
function sha256(value: string): string {
  return hash("sha256", value, "hex");
}

/** A stable fingerprint of a validated request body. */
export function fingerprintOf(payload: unknown): string {
  return sha256(JSON.stringify(payload));
}

/**
 * The notification id for an idempotency key: derived, so two adds for the same key can only
 * ever create one BullMQ job. Shaped like a UUID so every id looks alike to callers.
 */
export function notificationIdFor(scope: string, key: string): string {
  const hex = sha256(`${scope}\u0000${key}`);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Claims a key and, in the same round trip, says whether the key's job is still kept: a claim
 * that succeeds (SET NX) answers {1, EXISTS job}; one that finds a record answers {0, record},
 * or {0, nil} when it expired in between. Both keys share the queue's prefix, hence its hash
 * slot on a cluster (BullMQ's requirement).
 */
const CLAIM = redisScript(`
if redis.call("SET", KEYS[1], ARGV[1], "EX", ARGV[2], "NX") then
  return {1, redis.call("EXISTS", KEYS[2])}
end
return {0, redis.call("GET", KEYS[1])}
`);

/** Remembers idempotency keys in RedisConnection, scoped per API key so callers cannot collide. */
export function createIdempotencyStore(redis: RedisConnection, keyPrefix: string) {
  const redisKey = (scope: string, key: string) =>
    `${keyPrefix}:idempotency:${sha256(`${scope}\u0000${key}`)}`;

  return {
    /** Claims `key` for a body with `fingerprint`, or says what the earlier request became. */
    async claim(
      scope: string,
      key: string,
      fingerprint: string,
      id: string,
    ): Promise<IdempotencyClaim> {
      const stored: Stored = { fingerprint, id, state: "pending" };
      const [claimed, found] = (await CLAIM(
        redis,
        [redisKey(scope, key), `${keyPrefix}:${id}`],
        [JSON.stringify(stored), PENDING_TTL_SECONDS],
      )) as [number, number | string | null];
      if (claimed === 1) return { kind: "new", jobExists: found === 1 };
      // Expired between the SET and the GET: the earlier request is gone, claim again.
      if (typeof found !== "string") return this.claim(scope, key, fingerprint, id);
      const earlier = JSON.parse(found) as Stored;
      if (earlier.fingerprint !== fingerprint) return { kind: "mismatch" };
      if (earlier.state === "pending") return { kind: "in_flight" };
      return { kind: "replay", id: earlier.id };
    },

    /** Marks the claim's notification as queued and keeps the key for the full window. */
    async confirm(scope: string, key: string, fingerprint: string, id: string): Promise<void> {
      const stored: Stored = { fingerprint, id, state: "queued" };
      await redis.set(redisKey(scope, key), JSON.stringify(stored), "EX", IDEMPOTENCY_TTL_SECONDS);
    },

    /** Drops a claim whose notification could not be queued, so the caller can retry. */
    async release(scope: string, key: string): Promise<void> {
      await redis.del(redisKey(scope, key));
    },
  };
}
