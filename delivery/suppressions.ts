/**
 * The suppression list: recipients no channel sends to any more. A hard bounce or a complaint
 * suppresses an email address (the gateway's Resend webhook); Twilio's error 21610 at send (the
 * worker) or an incoming STOP (the gateway's Twilio webhook) suppresses a number, and START
 * lifts it. The worker checks it before each channel's provider call, one HMGET for all of a
 * notification's channels, inside the script that opens each try (worker/try-opening.ts).
 *
 * One hash under the queue's prefix (`{prefix}:{queue}:suppressions`, one slot on a Redis
 * Cluster), field `{channel}:{recipient}`, value a JSON entry. Entries do not expire: an address
 * that bounced stays suppressed until an operator lifts it (`DELETE /suppressions/…`).
 *
 * Beside it, `{prefix}:{queue}:sms-inbound-applied`: one hash, field a number, value the
 * MessageSids of the incoming STOP and START messages applied for it (the newest
 * INBOUND_MESSAGES_KEPT, space-separated, oldest first), without expiry: Twilio signs no
 * timestamp, so a captured message can be replayed at any time, and only its id tells it was
 * applied. About 35 bytes per message; most numbers send one or two keywords ever.
 */
import { type Channel, normalizeRecipient } from "../contract/channels.js";
import type { RedisConnection } from "../lib/redis.js";
import { redisScript } from "../lib/redis-script.js";

/**
 * Incoming messages (STOP, START) remembered per number: a number would have to send this many
 * keywords after a captured one before that one could act again.
 */
export const INBOUND_MESSAGES_KEPT = 100;

// KEYS: the applied-messages hash. ARGV: number, MessageSid, how many to keep. 1: newly claimed.
const CLAIM_INBOUND = redisScript(`
local kept = {}
for sid in string.gmatch(redis.call('HGET', KEYS[1], ARGV[1]) or '', '%S+') do
  if sid == ARGV[2] then return 0 end
  table.insert(kept, sid)
end
table.insert(kept, ARGV[2])
while #kept > tonumber(ARGV[3]) do table.remove(kept, 1) end
redis.call('HSET', KEYS[1], ARGV[1], table.concat(kept, ' '))
return 1`);

// KEYS: the applied-messages hash. ARGV: number, MessageSid.
const RELEASE_INBOUND = redisScript(`
local kept = {}
for sid in string.gmatch(redis.call('HGET', KEYS[1], ARGV[1]) or '', '%S+') do
  if sid ~= ARGV[2] then table.insert(kept, sid) end
end
if #kept == 0 then return redis.call('HDEL', KEYS[1], ARGV[1]) end
redis.call('HSET', KEYS[1], ARGV[1], table.concat(kept, ' '))
return 1`);

/** Why a recipient is suppressed. */
export const SUPPRESSION_REASONS = ["bounce", "complaint", "provider_suppressed", "stop"] as const;
export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number];

export interface SuppressionEntry {
  reason: SuppressionReason;
  /** Who reported it: the provider whose webhook or answer said so. */
  source: string;
  /** The provider's code: the bounce type, Twilio's 21610, the keyword. */
  code?: string;
  /** ISO 8601. */
  at: string;
  /** The notification whose message bounced or was refused, when known. */
  notificationId?: string;
}

export interface Suppression extends SuppressionEntry {
  channel: Channel;
  recipient: string;
}

export function createSuppressionList(options: { redis: RedisConnection; keyPrefix: string }) {
  const { redis } = options;
  const key = `${options.keyPrefix}:suppressions`;
  // One hash per channel that takes incoming messages: `{prefix}:{queue}:sms-inbound-applied`.
  const inboundKey = (channel: Channel) => `${options.keyPrefix}:${channel}-inbound-applied`;
  const field = (channel: Channel, recipient: string) =>
    `${channel}:${normalizeRecipient(channel, recipient)}`;

  function lookup(recipients: Array<{ channel: Channel; recipient: string }>) {
    return { key, fields: recipients.map(({ channel, recipient }) => field(channel, recipient)) };
  }

  function parse(name: string, value: string): Suppression | undefined {
    const colon = name.indexOf(":");
    if (colon < 0) return undefined;
    try {
      const entry = JSON.parse(value) as SuppressionEntry;
      return {
        channel: name.slice(0, colon) as Channel,
        recipient: name.slice(colon + 1),
        ...entry,
      };
    } catch {
      return undefined;
    }
  }

  return {
    /** Which of these recipients are suppressed, in order: one command for all. */
    async check(recipients: Array<{ channel: Channel; recipient: string }>): Promise<boolean[]> {
      if (recipients.length === 0) return [];
      const { fields } = lookup(recipients);
      const found = await redis.hmget(key, ...fields);
      return found.map((value) => value !== null);
    },
    /**
     * The hash and its fields that `check` reads (HMGET), for a script that checks along with
     * other work (worker/try-opening.ts): a field present means suppressed.
     */
    lookup,
    /** Suppresses a recipient; false when it already was (its first entry stays). */
    async add(channel: Channel, recipient: string, entry: SuppressionEntry): Promise<boolean> {
      return (await redis.hsetnx(key, field(channel, recipient), JSON.stringify(entry))) === 1;
    },
    /** Lifts a recipient's suppression; false when it was not suppressed. */
    async remove(channel: Channel, recipient: string): Promise<boolean> {
      return (await redis.hdel(key, field(channel, recipient))) === 1;
    },
    /**
     * Claims an incoming message of `from` on `channel` for applying: true the first time its id
     * (Twilio's MessageSid) is seen, false for a message applied before (a replay, a retry of an
     * applied one).
     */
    async claimInbound(channel: Channel, from: string, messageId: string): Promise<boolean> {
      const sender = normalizeRecipient(channel, from);
      const claimed = await CLAIM_INBOUND(
        redis,
        [inboundKey(channel)],
        [sender, messageId, INBOUND_MESSAGES_KEPT],
      );
      return claimed === 1;
    },
    /** Gives a claim back: the message could not be applied, and its retry must be. */
    async releaseInbound(channel: Channel, from: string, messageId: string): Promise<void> {
      const sender = normalizeRecipient(channel, from);
      await RELEASE_INBOUND(redis, [inboundKey(channel)], [sender, messageId]);
    },
    async get(channel: Channel, recipient: string): Promise<Suppression | undefined> {
      const name = field(channel, recipient);
      const value = await redis.hget(key, name);
      return value === null ? undefined : parse(name, value);
    },
    /**
     * One page, in HSCAN's order: `cursor` "0" starts; the answer's `cursor` is "0" at the end.
     * A page may hold fewer than `count` entries (HSCAN's COUNT is a hint), even none.
     */
    async list(
      cursor: string,
      count: number,
      channel?: Channel,
    ): Promise<{ cursor: string; items: Suppression[] }> {
      const [next, flat] = channel
        ? await redis.hscan(key, cursor, "MATCH", `${channel}:*`, "COUNT", count)
        : await redis.hscan(key, cursor, "COUNT", count);
      const items: Suppression[] = [];
      for (let index = 0; index + 1 < flat.length; index += 2) {
        const parsed = parse(flat[index] ?? "", flat[index + 1] ?? "");
        if (parsed) items.push(parsed);
      }
      return { cursor: next, items };
    },
  };
}

export type SuppressionList = ReturnType<typeof createSuppressionList>;
