// A reference for the gateway's own work: the bare route (bare-intake-server.mjs) with the
// per-request features the gateway must keep, each added the stack's own way, from the libraries'
// documentation, with nothing tuned: hono's requestId, secureHeaders, bearerAuth and bodyLimit
// middlewares; the request's two Prometheus series with prom-client, as @hono/prometheus records
// them; a pino log line per request (at warn, as the bench runs every process, so not written);
// the gateway's contract schema; the gateway's job (its data and retries); queue.add. The gateway
// ÷ this route says what the gateway's implementation of the same features costs or saves; the
// bare route ÷ this route, what the features cost on this stack.
import { randomUUID } from "node:crypto";
import { serve } from "@hono/node-server";
import { Queue } from "bullmq";
import { Hono } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { bodyLimit } from "hono/body-limit";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import { Redis } from "ioredis";
import { pino } from "pino";
import { Counter, Histogram, Registry } from "prom-client";
import { notificationRequestSchema } from "../contract/notification-job.js";
import { jobFromRequest } from "../gateway/job-from-request.js";
import { DEFAULT_JOB_SETTINGS } from "../lib/env.js";

const redis = new Redis(process.env.REDIS_URL ?? "", { maxRetriesPerRequest: null });
const queue = new Queue("notifications", { connection: redis });
const logger = pino({ level: process.env.LOG_LEVEL ?? "info" });
const registry = new Registry();
const labelNames = ["method", "status", "ok", "route"];
const duration = new Histogram({
  name: "http_request_duration_seconds",
  help: "Duration of HTTP requests in seconds",
  labelNames,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
  registers: [registry],
});
const total = new Counter({
  name: "http_requests_total",
  help: "Total number of HTTP requests",
  labelNames,
  registers: [registry],
});

const app = new Hono<{ Variables: { requestId: string } }>();
app.use(requestId());
app.use(secureHeaders());
app.use(async (c, next) => {
  const started = performance.now();
  await next();
  const seconds = (performance.now() - started) / 1000;
  const labels = {
    method: c.req.method,
    route: c.req.routePath,
    status: String(c.res.status),
    ok: String(c.res.ok),
  };
  duration.observe(labels, seconds);
  total.inc(labels);
  logger.info({ requestId: c.get("requestId"), ...labels, durationMs: seconds * 1000 }, "request");
});
app.use("/notifications/*", bearerAuth({ token: (process.env.API_KEYS ?? "").split(",") }));
app.post("/notifications", bodyLimit({ maxSize: 16 * 1024 }), async (c) => {
  const parsed = notificationRequestSchema.safeParse(await c.req.json());
  if (!parsed.success) return c.json({ error: "bad" }, 400);
  const job = jobFromRequest(parsed.data, randomUUID(), DEFAULT_JOB_SETTINGS, "bench");
  await queue.add(job.name, job.data, job.opts);
  return c.json({ id: job.opts.jobId, status: "queued" }, 202);
});
app.get("/readyz", (c) => c.text("ok"));
serve({ fetch: app.fetch, port: Number(process.env.PORT), hostname: "127.0.0.1" });
