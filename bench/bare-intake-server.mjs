// The reference the gateway's intake is measured against: a bare Hono + zod + queue.add route,
// no auth, logs, metrics or limits. One Redis connection for the queue, as the gateway has.
import { randomUUID } from "node:crypto";
import { serve } from "@hono/node-server";
import { Queue } from "bullmq";
import { Hono } from "hono";
import { Redis } from "ioredis";
import { z } from "zod";

const schema = z.object({
  to: z.email(),
  phone: z.string().optional(),
  asset: z.string(),
  amount: z.number().positive(),
  quantity: z.number().positive(),
  order: z.string(),
});
const redis = new Redis(process.env.REDIS_URL ?? "", { maxRetriesPerRequest: null });
const queue = new Queue("notifications", { connection: redis });
const app = new Hono();
app.post("/notifications", async (c) => {
  const parsed = schema.safeParse(await c.req.json());
  if (!parsed.success) return c.json({ error: "bad" }, 400);
  const id = randomUUID();
  await queue.add("trade.executed", parsed.data, { jobId: id, attempts: 4 });
  return c.json({ id, status: "queued" }, 202);
});
app.get("/readyz", (c) => c.text("ok"));
serve({ fetch: app.fetch, port: Number(process.env.PORT), hostname: "127.0.0.1" });
