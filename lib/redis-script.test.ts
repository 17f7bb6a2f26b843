import { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type RedisServer, startRedisServer } from "../scripts/redis-server.js";
import { redisScript } from "./redis-script.js";

// A Redis of its own: these tests count its commands and flush its script cache.
let server: RedisServer;
let redis: Redis;
beforeEach(async () => {
  server = await startRedisServer();
  redis = new Redis(server.url);
});
afterEach(async () => {
  redis.disconnect();
  await server.stop();
});

/** How many EVAL and EVALSHA commands the server has taken (INFO commandstats). */
async function scriptCalls(): Promise<{ eval: number; evalsha: number }> {
  const info = await redis.info("commandstats");
  const calls = (name: string) =>
    Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
  return { eval: calls("eval"), evalsha: calls("evalsha") };
}

describe("redisScript", () => {
  it("sends a script in full on its first call, then only its hash", async () => {
    const script = redisScript("return {KEYS[1], ARGV[1], ARGV[2]}");
    expect(await script(redis, ["k"], ["x", 7])).toEqual(["k", "x", "7"]);
    expect(await scriptCalls()).toEqual({ eval: 1, evalsha: 0 });
    expect(await script(redis, ["k2"], ["y", 8])).toEqual(["k2", "y", "8"]);
    expect(await script(redis, ["k3"], ["z", 9])).toEqual(["k3", "z", "9"]);
    expect(await scriptCalls()).toEqual({ eval: 1, evalsha: 2 });
  });

  it("sends the full script once when its first calls are made together (a worker's start)", async () => {
    const script = redisScript("return ARGV[1]");
    const answers = await Promise.all(["a", "b", "c", "d"].map((x) => script(redis, [], [x])));
    expect(answers).toEqual(["a", "b", "c", "d"]);
    expect(await scriptCalls()).toEqual({ eval: 1, evalsha: 3 });
  });

  it("sends the full script again when Redis has forgotten it (NOSCRIPT after SCRIPT FLUSH)", async () => {
    const script = redisScript("return ARGV[1]");
    expect(await script(redis, [], ["a"])).toBe("a");
    await redis.script("FLUSH");
    expect(await script(redis, [], ["b"])).toBe("b");
    expect(await script(redis, [], ["c"])).toBe("c");
    // The refused EVALSHA, the EVAL that loads it again, then EVALSHA again.
    expect(await scriptCalls()).toEqual({ eval: 2, evalsha: 2 });
  });

  it("passes on an error the script raises", async () => {
    const script = redisScript("return redis.error_reply('BOOM no')");
    await expect(script(redis, [], [])).rejects.toThrow("BOOM no");
    await expect(script(redis, [], [])).rejects.toThrow("BOOM no");
  });
});
