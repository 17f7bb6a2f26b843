import { createHash } from "node:crypto";
import type { RedisConnection } from "./redis.js";

/** Runs a Lua script with these keys and arguments; answers what the script returns. */
export type RedisScript = (
  redis: RedisConnection,
  keys: readonly string[],
  args: ReadonlyArray<string | number | Buffer>,
) => Promise<unknown>;

/**
 * A Lua script sent in full (EVAL) on its first call on each connection, which also loads it into
 * Redis's script cache, then as EVALSHA (its 40-character hash); in full again only when Redis
 * answers NOSCRIPT (a restart, SCRIPT FLUSH, another server). An EVAL each time re-sends the whole
 * script on every call. The command count is the same either way (Upstash bills a script as one
 * command) and so is the first call's: one EVAL, where trying EVALSHA first (ioredis's
 * `defineCommand`) costs a refused EVALSHA more per script and process.
 */
export function redisScript(lua: string): RedisScript {
  const sha = createHash("sha1").update(lua).digest("hex");
  const sentTo = new WeakSet<RedisConnection>();
  return async (redis, keys, args) => {
    if (!sentTo.has(redis)) {
      // Marked before the answer: calls made meanwhile go as EVALSHA behind this EVAL on the same
      // connection, so Redis knows the script by then (or answers NOSCRIPT, handled below).
      sentTo.add(redis);
      return redis.eval(lua, keys.length, ...keys, ...args);
    }
    try {
      return await redis.evalsha(sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
      return redis.eval(lua, keys.length, ...keys, ...args);
    }
  };
}
