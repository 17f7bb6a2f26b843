import type { Channel } from "../contract/notification-job.js";
import type { RedisConnection } from "../lib/redis.js";

/**
 * Counts a call in the current one-second window and answers how long to wait when the window
 * is full (0 when the call may go now). One round trip, atomic across every worker replica.
 */
const TAKE_SLOT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if count > tonumber(ARGV[1]) then
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl < 0 then ttl = tonumber(ARGV[2]) end
  -- PTTL rounds down to 0 in the window's last millisecond; 0 would mean "go now".
  if ttl < 1 then ttl = 1 end
  return ttl
end
return 0`;

const WINDOW_MS = 1000;

/**
 * A per-provider rate limit shared by every worker replica through RedisConnection, beside BullMQ's
 * queue-wide limiter: Resend allows a team 2 requests/s by default, far below the queue's 10 jobs/s.
 * Fixed one-second windows: cheap (one command per call); a burst can straddle two windows.
 */
export function createProviderRateLimiter(options: {
  redis: RedisConnection;
  keyPrefix: string;
  perSecond: Record<Channel, number>;
  /** Called each time a call has to wait for the next window. */
  onWait?: (channel: Channel) => void;
}) {
  const { redis } = options;
  /** Waits until a call on `channel` fits in its provider's limit. */
  return async function acquire(channel: Channel): Promise<void> {
    if (options.perSecond[channel] === 0) return; // limit off: no Redis round trip
    const key = `${options.keyPrefix}:provider-limit:${channel}`;
    for (;;) {
      const waitMs = Number(
        await redis.eval(TAKE_SLOT, 1, key, options.perSecond[channel], WINDOW_MS),
      );
      if (waitMs <= 0) return;
      options.onWait?.(channel);
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  };
}

export type AcquireProviderSlot = ReturnType<typeof createProviderRateLimiter>;
