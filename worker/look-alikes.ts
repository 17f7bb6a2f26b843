import { createHash } from "node:crypto";
import type { LookAlikes } from "../channels/channel-adapter.js";
import type { Channel } from "../contract/channels.js";
import { providerIdKey } from "../delivery/delivery-store.js";
import type { RedisConnection } from "../lib/redis.js";
import { redisScript } from "../lib/redis-script.js";

/** How long the provider-id → notification index keeps a claim: as long as failed jobs are kept. */
const PROVIDER_ID_TTL_SECONDS = 7 * 24 * 60 * 60;

/** Sets the key unless it is set, and answers its holder (SET NX GET needs Redis 7; this 5+). */
const CLAIM = redisScript(`
local holder = redis.call('GET', KEYS[1])
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
  holder = ARGV[1]
end
return holder`);

/** Joins a look-alike set and keeps it for ARGV[2] ms. */
const JOIN = redisScript(`
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`);

/**
 * The sets of notifications sending one text to one recipient right now, shared by every replica
 * (`SendRequest.lookAlikes`): a provider without idempotency keys (Twilio) is searched for an
 * earlier try's message, and a look-up cannot tell a look-alike in flight from ours. Keyed by a
 * digest of recipient and text, so no contact detail is a Redis key.
 */
export function createLookAlikeSets(options: {
  redis: RedisConnection;
  keyPrefix: string;
  /** Twice a job's lock: a crashed sender's entry lapses about when its job is taken over. */
  ttlMs: number;
}) {
  const { redis, keyPrefix, ttlMs } = options;
  return {
    /** The set of `notificationId`'s look-alikes for this text to this recipient. */
    of(channel: Channel, recipient: string, text: string, notificationId: string): LookAlikes {
      const digest = createHash("sha256").update(`${recipient}\n${text}`).digest("hex");
      const key = `${keyPrefix}:in-flight:${channel}:${digest}`;
      return {
        begin: async () => {
          await JOIN(redis, [key], [notificationId, ttlMs]);
        },
        end: async () => {
          await redis.srem(key, notificationId);
        },
        others: async () =>
          (await redis.smembers(key)).filter((member) => member !== notificationId),
      };
    },
    /**
     * Records `providerId` as `notificationId`'s message unless another notification holds it:
     * false then, a look-alike's message that is not ours to report.
     */
    async claim(provider: string, providerId: string, notificationId: string): Promise<boolean> {
      const key = providerIdKey(keyPrefix, provider, providerId);
      return (
        (await CLAIM(redis, [key], [notificationId, PROVIDER_ID_TTL_SECONDS])) === notificationId
      );
    },
  };
}

export type LookAlikeSets = ReturnType<typeof createLookAlikeSets>;
