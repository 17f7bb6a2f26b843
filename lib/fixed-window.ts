import type { RedisConnection } from "./redis.js";

/**
 * Counts one event in the current fixed window of `windowMs` and answers the count so far and
 * the window's remaining time: one round trip, atomic, shared by every process on the Redis.
 */
const COUNT_IN_WINDOW = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}`;

/** The count in a window after this event, and how long until the window resets. */
export interface WindowCount {
  count: number;
  resetMs: number;
}

/** Counts an event under `key` in a fixed window (the key's TTL is the window). */
export async function countInWindow(
  redis: RedisConnection,
  key: string,
  windowMs: number,
): Promise<WindowCount> {
  const [count, ttl] = (await redis.eval(COUNT_IN_WINDOW, 1, key, windowMs)) as [number, number];
  // PTTL rounds down to 0 in a window's last millisecond; never report "resets now".
  return { count, resetMs: Math.max(1, ttl) };
}
