import { createHash } from "node:crypto";
import type { RedisConnection } from "./redis.js";

/** Runs a Lua script with these keys and arguments; answers what the script returns. */
export type RedisScript = (
  redis: RedisConnection,
  keys: readonly string[],
  args: ReadonlyArray<string | number>,
) => Promise<unknown>;

/**
 * A Lua script sent as EVALSHA (its 40-character hash), and in full only when Redis does not
 * know it yet (NOSCRIPT: the first call, or after a restart or SCRIPT FLUSH). An EVAL each time
 * re-sends the whole script on every call; the command count is the same either way (Upstash
 * bills a script as one command), the bytes sent are not. ioredis's `defineCommand` does the same,
 * but per connection and without a type.
 */
export function redisScript(lua: string): RedisScript {
  const sha = createHash("sha1").update(lua).digest("hex");
  return async (redis, keys, args) => {
    try {
      return await redis.evalsha(sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
      return redis.eval(lua, keys.length, ...keys, ...args);
    }
  };
}
