// A reference for the gateway's structure: the bare route (bare-intake-server.mjs) with the
// gateway's own code for each per-request feature, called in order from its one handler, without
// the gateway's middleware chain, router, error handler or other routes. The bare route ÷ this
// route says what the features cost at the gateway's implementation of them; the gateway ÷ this
// route, what its structure costs on top.
//
// INLINE_WITHOUT (comma-separated) swaps features for the bare route's way, for measuring each
// one's share side by side (bench/feature-costs.ts):
//   headers     the security headers and the X-Request-Id, through GatewayResponse
//   auth        the Bearer key, verified by the gateway's keyMatcher
//   checks      the declared body size, the media type, the Idempotency-Key header's format
//   schema      the contract's schema (the bare route's six fields; implies job)
//   job         the gateway's enqueuer and job (its data, retries and backoff), not a bare add
//   telemetry   the request's two Prometheus series and its log call (not written at warn)
//   connection  the gateway's Redis connection (per-turn writes, command timeout), not ioredis'
// A bad request gets a short 4xx, not the gateway's error shape: the load sends none.
import { randomUUID } from "node:crypto";
import { ServerResponse } from "node:http";
import { type HttpBindings, serve } from "@hono/node-server";
import { Queue } from "bullmq";
import { type Context, Hono } from "hono";
import { Redis } from "ioredis";
import { Registry } from "prom-client";
import { NOTIFICATION_QUEUE, notificationRequestSchema } from "../contract/notification-job.js";
import { acceptedKeys, keyMatcher } from "../gateway/api-keys.js";
import { createEnqueuer } from "../gateway/enqueue.js";
import { requestTelemetry } from "../gateway/middleware/request-telemetry.js";
import { GatewayResponse, setOnNodeResponse } from "../gateway/middleware/response-headers.js";
import { readHeaders, readJsonBody } from "../gateway/request-input.js";
import { MAX_BODY_BYTES, NOTIFICATION_HEADERS } from "../gateway/routes/notifications-create.js";
import { DEFAULT_JOB_SETTINGS } from "../lib/env.js";
import { createLogger } from "../lib/logger.js";
import { createProducerConnection } from "../lib/redis.js";
// The bare route's schema, for INLINE_WITHOUT=schema.
import { bareSchema } from "./bare-schema.mjs";

const without = new Set((process.env.INLINE_WITHOUT ?? "").split(",").filter(Boolean));
const has = (feature: string) => !without.has(feature);

const redisUrl = process.env.REDIS_URL ?? "";
const redis = has("connection")
  ? createProducerConnection(redisUrl)
  : new Redis(redisUrl, { maxRetriesPerRequest: null });
const queue = new Queue(NOTIFICATION_QUEUE, { connection: redis });
const logger = createLogger({
  name: "inline",
  level: process.env.LOG_LEVEL ?? "warn",
  pretty: false,
});
const enqueue = createEnqueuer({
  queue,
  redis,
  apiKeys: [],
  jobSettings: DEFAULT_JOB_SETTINGS,
  logger,
});
const matchKey = keyMatcher(acceptedKeys((process.env.API_KEYS ?? "").split(",")));
const recordRequest = requestTelemetry({
  logger,
  registry: new Registry(),
});
const app = new Hono<{ Bindings: HttpBindings }>();
app.post("/notifications", async (c) => {
  const started = performance.now();
  const requestId = randomUUID();
  if (has("headers")) setOnNodeResponse(c.env.outgoing, requestId);
  let scope = "bench";
  if (has("auth")) {
    const match = /^Bearer (.+)$/.exec(c.req.header("authorization") ?? "");
    const key = match?.[1] ? matchKey(match[1]) : undefined;
    if (!key) return c.json({ error: "unauthorized" }, 401);
    scope = key.id;
  }
  let id: string;
  try {
    if (has("schema") && has("job")) {
      const idempotencyKey = has("checks")
        ? readHeaders(c, NOTIFICATION_HEADERS)["idempotency-key"]
        : undefined;
      if (has("checks") && Number(c.req.header("content-length")) > MAX_BODY_BYTES) {
        return c.json({ error: "too large" }, 413);
      }
      const request = has("checks")
        ? await readJsonBody(c, notificationRequestSchema)
        : notificationRequestSchema.parse(await c.req.json());
      const [outcome] = await enqueue(scope, [{ request, idempotencyKey }]);
      if (!outcome || "error" in outcome) return c.json({ error: "refused" }, 409);
      id = outcome.id;
    } else {
      const schema = has("schema") ? notificationRequestSchema : bareSchema;
      const data = has("checks") ? await readJsonBody(c, schema) : schema.parse(await c.req.json());
      id = randomUUID();
      await queue.add("trade.executed", data, { jobId: id, attempts: 4 });
    }
  } catch {
    return c.json({ error: "bad request" }, 400);
  }
  const response = c.json({ id, status: "queued" }, 202);
  if (has("telemetry")) record(c, response, requestId, started);
  return response;
});
app.get("/readyz", (c) => c.text("ok"));

/** The gateway's recorder reads the answer's status from the context, where hono puts it. */
function record(c: Context, response: Response, requestId: string, started: number) {
  c.res = response;
  recordRequest(c, requestId, started);
}

serve({
  fetch: app.fetch,
  port: Number(process.env.PORT),
  hostname: "127.0.0.1",
  serverOptions: { ServerResponse: has("headers") ? GatewayResponse : ServerResponse },
});
