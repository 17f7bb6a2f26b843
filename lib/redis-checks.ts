import type { RedisConnection } from "./redis.js";

/**
 * BullMQ loses jobs if Redis evicts keys, so anything but `noeviction` earns a warning.
 * Returns the warning, or undefined when the policy is right or cannot be read (managed Redis
 * services such as Upstash often refuse CONFIG GET; they do not evict queue keys by default).
 */
export async function maxmemoryPolicyWarning(redis: RedisConnection): Promise<string | undefined> {
  try {
    const reply = (await redis.config("GET", "maxmemory-policy")) as string[];
    const policy = reply[1];
    if (policy === undefined || policy === "noeviction") return undefined;
    return `Redis maxmemory-policy is "${policy}": set it to "noeviction", or Redis may evict queued notifications`;
  } catch {
    return undefined;
  }
}
