import type { Channel } from "../contract/notification-job.js";
import { countInWindow } from "../lib/fixed-window.js";
import type { RedisConnection } from "../lib/redis.js";

const WINDOW_MS = 1000;

/**
 * A per-provider rate limit shared by every worker replica through Redis, beside BullMQ's
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
  /** Waits until a call on `channel` fits in its provider's limit. */
  return async function acquire(channel: Channel): Promise<void> {
    const limit = options.perSecond[channel];
    if (limit === 0) return; // limit off: no Redis round trip
    const key = `${options.keyPrefix}:provider-limit:${channel}`;
    for (;;) {
      const { count, resetMs } = await countInWindow(options.redis, key, WINDOW_MS);
      if (count <= limit) return;
      options.onWait?.(channel);
      await new Promise((resolve) => setTimeout(resolve, resetMs));
    }
  };
}
