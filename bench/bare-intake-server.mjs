// The intake ceiling on this stack: a bare Hono + zod + queue.add route, no auth, logs or metrics.
// With BARE_LIMIT_PER_MINUTE it also makes the Redis round trips of the gateway's per-key limit
// and idempotency keys, in the same order and nothing else: rate-limiter-flexible's counter, a
// claim (SET NX), the add, the claim's confirmation (SET, sent with the answer, not awaited).
import { randomUUID } from "node:crypto";
import { serve } from "@hono/node-server";
import { Queue } from "bullmq";
import { Hono } from "hono";
import { Redis } from "ioredis";
import { RateLimiterRedis } from "rate-limiter-flexible";
import { bareSchema as schema } from "./bare-schema.mjs";

// One connection for the queue and the limit's commands, as the gateway has.
const redis = new Redis(process.env.REDIS_URL ?? "", { maxRetriesPerRequest: null });
const queue = new Queue("notifications", { connection: redis });
const perMinute = Number(process.env.BARE_LIMIT_PER_MINUTE ?? 0);
const limiter =
  perMinute > 0
    ? new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: "bare-limit",
        points: perMinute,
        duration: 60,
      })
    : undefined;
const app = new Hono();
app.post("/notifications", async (c) => {
  try {
    await limiter?.consume("bench", 1);
  } catch {
    return c.json({ error: "limited" }, 429);
  }
  const parsed = schema.safeParse(await c.req.json());
  if (!parsed.success) return c.json({ error: "bad" }, 400);
  const id = randomUUID();
  const key = limiter ? c.req.header("idempotency-key") : undefined;
  if (key && (await redis.set(`bare-idem:${key}`, id, "EX", 60, "NX")) === null) {
    return c.json({ error: "conflict" }, 409);
  }
  await queue.add("trade.executed", parsed.data, { jobId: id, attempts: 4 });
  // Not awaited, as the gateway does not wait for its confirmation before answering.
  if (key) redis.set(`bare-idem:${key}`, id, "EX", 86400).catch(() => {});
  return c.json({ id, status: "queued" }, 202);
});
app.get("/readyz", (c) => c.text("ok"));
serve({ fetch: app.fetch, port: Number(process.env.PORT), hostname: "127.0.0.1" });
