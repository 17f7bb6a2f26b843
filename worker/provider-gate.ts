import type { RedisConnection } from "../lib/redis.js";
import { redisScript } from "../lib/redis-script.js";

/**
 * Reserves the provider's next free call slot, unless the provider is in a wait (a 429, a quota,
 * refused credentials): one atomic command per call, shared by every replica, on Redis's clock.
 * Slots are spaced evenly (a GCRA with no burst), so no window of one second ever holds more
 * than the limit, wherever the window starts: a fixed window let twice the limit through at a
 * boundary. Times are whole milliseconds: Redis turns Lua numbers into strings with 14 digits.
 * A Lua function, so a script that books along with other work (try-opening.ts) runs the same.
 */
export const RESERVE_SLOT_FUNCTION = `
local function reserveSlot(scheduleKey, waitKey, spacing)
  local wait = redis.call('GET', waitKey)
  if wait then return {-1, wait, redis.call('PTTL', waitKey)} end
  if spacing <= 0 then return {0} end
  local time = redis.call('TIME')
  local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  local slot = math.max(now, tonumber(redis.call('GET', scheduleKey) or '0'))
  redis.call('SET', scheduleKey, slot + spacing, 'PX', slot + spacing - now + 1000)
  return {slot - now}
end
`;

const RESERVE_SLOT = redisScript(`${RESERVE_SLOT_FUNCTION}
return reserveSlot(KEYS[1], KEYS[2], tonumber(ARGV[1]))`);

/**
 * Slots are 10 % wider than the limit needs: requests cross the network with jitter, and a
 * provider that counts strictly per second would refuse two calls that left on time but arrived
 * closer together.
 */
const SPACING_GUARD = 1.1;

/** Sets a provider's wait unless a longer one runs (a 1 s 429 never ends an hour's quota wait). */
const HOLD_LONGEST = redisScript(`
local ttl = redis.call('PTTL', KEYS[1])
if ttl < tonumber(ARGV[2]) then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return {ARGV[1], tonumber(ARGV[2])}
end
return {redis.call('GET', KEYS[1]), ttl}`);

/** Why a provider's channel is waiting. */
export type WaitReason = ProviderTrouble | "deferred";

/** A provider's trouble that makes all its sends wait (each with its own default wait). */
export type ProviderTrouble = "rate_limited" | "quota" | "misconfigured";

/** A provider in a wait: until when, and why. */
export interface ProviderWait {
  until: number;
  reason: WaitReason;
  code: string;
}

/** A booked slot: the delay until it comes (not waited yet), or the wait the provider is in. */
export type Booking = { delayMs: number } | { wait: ProviderWait };

/** What a reservation answered: go (after the slot's delay, already waited), or the wait. */
export type Reservation = { go: true } | { go: false; wait: ProviderWait };

/**
 * The gate every provider call passes: the provider's own per-second limit, and the waits that a
 * provider's 429, quota or credential error set. A wait holds back that provider only: the other
 * channels of the same notification still go out.
 */
export function createProviderGate(options: {
  redis: RedisConnection;
  /** Redis key prefix (the queue's, so keys share its cluster hash tag). */
  keyPrefix: string;
  /** Calls per second per provider across replicas; 0 or absent: no limit. */
  perSecond: Record<string, number>;
  /** Called when a call had to wait for its slot. */
  onSlotWait?: (provider: string) => void;
  /** Called whenever this process learns of a provider's wait. */
  onWait?: (provider: string, wait: ProviderWait) => void;
}) {
  const scheduleKey = (provider: string) => `${options.keyPrefix}:provider:${provider}:schedule`;
  const waitKey = (provider: string) => `${options.keyPrefix}:provider:${provider}:wait`;
  /** Milliseconds between two calls' slots: the limit's, 10 % wider; 0 without a limit. */
  const spacingOf = (provider: string) => {
    const limit = options.perSecond[provider] ?? 0;
    return limit > 0 ? Math.ceil((1000 * SPACING_GUARD) / limit) : 0;
  };

  const gate = {
    /**
     * Books the provider's next slot without waiting for it: how long until it comes, or the
     * wait the provider is in. A batcher collects sends until its slot comes.
     */
    async book(provider: string): Promise<Booking> {
      const { keys, spacing } = gate.bookingOf(provider);
      return gate.answerOf(provider, await RESERVE_SLOT(options.redis, keys, [spacing]));
    },

    /**
     * The keys and spacing of `reserveSlot` (RESERVE_SLOT_FUNCTION) for the provider's next
     * slot, for a script that books along with other work; `answerOf` reads what it returned.
     */
    bookingOf(provider: string): { keys: [string, string]; spacing: number } {
      return { keys: [scheduleKey(provider), waitKey(provider)], spacing: spacingOf(provider) };
    },

    /** What `reserveSlot` answered for the provider: the delay until its slot, or its wait. */
    answerOf(provider: string, answer: unknown): Booking {
      const [delayMs, record, ttl] = answer as [number, string?, number?];
      if (delayMs < 0) {
        const [reason, code] = (record ?? "rate_limited|").split("|") as [WaitReason, string];
        const wait = { until: Date.now() + Math.max(1, ttl ?? 1), reason, code: code ?? "" };
        options.onWait?.(provider, wait);
        return { wait };
      }
      return { delayMs };
    },

    /** Waits for a booked slot to come: go then, or the provider's wait. */
    async take(provider: string, booked: Booking): Promise<Reservation> {
      if ("wait" in booked) return { go: false, wait: booked.wait };
      if (booked.delayMs > 0) {
        options.onSlotWait?.(provider);
        await new Promise((resolve) => setTimeout(resolve, booked.delayMs));
      }
      return { go: true };
    },

    /** Holds every call to `provider` back for `ms`, on every replica. */
    async hold(
      provider: string,
      ms: number,
      reason: WaitReason,
      code: string,
    ): Promise<ProviderWait> {
      // Redis refuses PX 0: a `Retry-After: 0` still waits a millisecond.
      const duration = Math.max(1, Math.ceil(ms));
      const [record, ttl] = (await HOLD_LONGEST(
        options.redis,
        [waitKey(provider)],
        [`${reason}|${code}`, duration],
      )) as [string, number];
      const [kept = reason, keptCode = code] = record.split("|") as [WaitReason, string];
      const wait = { until: Date.now() + Math.max(1, ttl), reason: kept, code: keptCode };
      options.onWait?.(provider, wait);
      return wait;
    },
  };
  return gate;
}

export type ProviderGate = ReturnType<typeof createProviderGate>;
