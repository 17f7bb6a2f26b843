import type { Redis } from "ioredis";
import { afterEach, beforeEach, expect, it } from "vitest";
import { type RedisServer, startRedisServer } from "../scripts/redis-server.js";
import { createProducerConnection } from "./redis.js";

let server: RedisServer;
let redis: Redis;
beforeEach(async () => {
  server = await startRedisServer();
  redis = createProducerConnection(server.url) as Redis;
  // Commands fail at once until the connection is ready (no offline queue): wait for it.
  await new Promise((resolve) => redis.once("ready", resolve));
});
afterEach(async () => {
  redis.disconnect();
  await server.stop();
});

/** Counts the writes Node's socket hands to the kernel (one per `_write`/`_writev`). */
function countSocketWrites(connection: Redis): () => number {
  const socket = connection.stream as unknown as Record<string, (...args: unknown[]) => unknown>;
  let writes = 0;
  for (const method of ["_write", "_writev"]) {
    const original = socket[method];
    if (!original) continue;
    socket[method] = function (this: unknown, ...args: unknown[]) {
      writes++;
      return original.apply(this, args);
    };
  }
  return () => writes;
}

async function setAndReadBack(connection: Redis, count: number) {
  const keys = Array.from({ length: count }, (_, i) => `k${i}`);
  await Promise.all(keys.map((key, i) => connection.set(key, String(i))));
  return connection.mget(...keys);
}

it("sends the commands of one event-loop turn in one write, each answered on its own", async () => {
  const writes = countSocketWrites(redis);
  const values = await setAndReadBack(redis, 20);
  expect(values).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
  // The 20 SETs in one write, the MGET in a second.
  expect(writes()).toBe(2);
});

it("coalesces again on the socket of a reconnection", async () => {
  const reconnected = new Promise((resolve) => redis.once("ready", resolve));
  redis.disconnect(true);
  await reconnected;
  const writes = countSocketWrites(redis);
  await setAndReadBack(redis, 10);
  expect(writes()).toBe(2);
});

it("sends commands issued from separate callbacks of one turn together", async () => {
  const writes = countSocketWrites(redis);
  // Like concurrent HTTP requests: each command issued from a callback of its own.
  const replies = await Promise.all(
    Array.from(
      { length: 8 },
      (_, i) => new Promise((resolve) => setImmediate(() => resolve(redis.incrby("n", i)))),
    ),
  );
  expect(replies).toHaveLength(8);
  expect(await redis.get("n")).toBe("28");
  expect(writes()).toBe(2);
});
