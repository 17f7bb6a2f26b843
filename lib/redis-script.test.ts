import { createHash, randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTestQueue } from "../test/fixtures.js";
import { redisScript } from "./redis-script.js";

let fixture: Awaited<ReturnType<typeof createTestQueue>>;
beforeEach(async () => {
  fixture = await createTestQueue();
});
afterEach(async () => {
  await fixture.cleanup();
});

describe("redisScript", () => {
  it("loads a script Redis does not know on its first call, then runs it by its hash", async () => {
    // A script no other test has loaded: its own comment makes its hash new.
    const lua = `-- ${randomUUID()}\nreturn {KEYS[1], ARGV[1], ARGV[2]}`;
    const sha = createHash("sha1").update(lua).digest("hex");
    const script = redisScript(lua);
    expect(await fixture.redis.script("EXISTS", sha)).toEqual([0]);

    expect(await script(fixture.redis, [`${fixture.prefix}:a`], ["x", 7])).toEqual([
      `${fixture.prefix}:a`,
      "x",
      "7",
    ]);
    expect(await fixture.redis.script("EXISTS", sha)).toEqual([1]);
    expect(await fixture.redis.evalsha(sha, 1, "k", "y", 8)).toEqual(["k", "y", "8"]);
    expect(await script(fixture.redis, ["k2"], ["z", 9])).toEqual(["k2", "z", "9"]);
  });

  it("passes on an error the script raises, without sending it again", async () => {
    const script = redisScript(`-- ${randomUUID()}\nreturn redis.error_reply('BOOM no')`);
    await expect(script(fixture.redis, [], [])).rejects.toThrow("BOOM no");
    await expect(script(fixture.redis, [], [])).rejects.toThrow("BOOM no");
  });
});
