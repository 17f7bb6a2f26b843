import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../scripts/redis-server.js";
import { startFakeResend } from "./fakes/resend.js";
import { startFakeTwilio } from "./fakes/twilio.js";
import { eventually, redisUrl } from "./fixtures.js";
import { postNotification, TEST_API_KEY, VALID_NOTIFICATION } from "./gateway-fixture.js";
import { startService, waitForGatewayReady } from "./support/processes.js";
import { providerEnv } from "./worker-fixture.js";

/** A gateway and a worker on a private queue prefix, with fake providers. */
async function startPipeline() {
  const resend = await startFakeResend();
  const twilio = await startFakeTwilio();
  const port = await freePort();
  const shared = {
    REDIS_URL: redisUrl(),
    QUEUE_PREFIX: `e2e-${randomUUID()}`,
    LOG_LEVEL: "info",
  };
  const gateway = startService("gateway", {
    ...shared,
    PORT: String(port),
    API_KEYS: `other-key-0123456789abcdef,${TEST_API_KEY}`,
  });
  const worker = startService("worker", { ...shared, ...providerEnv(resend, twilio) });
  await waitForGatewayReady(gateway, port);
  await worker.waitForLine(/worker ready/);
  return {
    resend,
    twilio,
    gateway,
    worker,
    baseUrl: `http://127.0.0.1:${port}`,
    async stop() {
      await Promise.all([gateway.stop("SIGKILL"), worker.stop("SIGKILL")]);
      await Promise.all([resend.close(), twilio.close()]);
    },
  };
}

/** Posts a notification with its own order id and waits until both providers got it. */
async function deliverOne(pipeline: Awaited<ReturnType<typeof startPipeline>>) {
  const order = randomUUID();
  const response = await postNotification(pipeline.baseUrl, { ...VALID_NOTIFICATION, order });
  expect(response.status).toBe(202);
  const { id } = (await response.json()) as { id: string };
  const email = await eventually(() => {
    const found = pipeline.resend.emails.find((candidate) => candidate.text.includes(order));
    expect(found).toBeDefined();
    return found;
  });
  const sms = await eventually(() => {
    const found = pipeline.twilio.messages.find((candidate) => candidate.body.includes(order));
    expect(found).toBeDefined();
    return found;
  });
  return { id, email, sms };
}

// Each test sends what it checks, so they pass in any order (and shuffled).
describe("the pipeline as real processes", () => {
  let pipeline: Awaited<ReturnType<typeof startPipeline>>;
  beforeAll(async () => {
    pipeline = await startPipeline();
  });
  afterAll(async () => {
    await pipeline?.stop();
  });

  it("delivers a POSTed notification by email and SMS and reports it completed", async () => {
    const { id, email, sms } = await deliverOne(pipeline);
    expect(email?.to).toBe("user@example.com");
    expect(sms?.to).toBe("+12025550143");
    const status = await eventually(async () => {
      const res = await fetch(`${pipeline.baseUrl}/notifications/${id}`, {
        headers: { authorization: `Bearer ${TEST_API_KEY}` },
      });
      const body = (await res.json()) as { status: string };
      expect(body.status).toBe("completed");
      return body;
    });
    expect(status).toMatchObject({
      channels: {
        email: { status: "sent", providerId: email?.id },
        sms: { status: "sent", providerId: sms?.sid },
      },
    });
  });

  it("logs one JSON line per request with route, status and duration, and no API key or address", async () => {
    await deliverOne(pipeline);
    await fetch(`${pipeline.baseUrl}/healthz`);
    const line = await pipeline.gateway.waitForLine(/"route":"\/healthz"/);
    const entry = JSON.parse(line) as Record<string, unknown>;
    expect(entry).toMatchObject({ method: "GET", route: "/healthz", status: 200, msg: "request" });
    expect(typeof entry.durationMs).toBe("number");
    expect(pipeline.gateway.lines.join("\n")).not.toContain(TEST_API_KEY);
    await pipeline.worker.waitForLine(/"msg":"notification delivered"/);
    expect(pipeline.worker.lines.join("\n")).not.toContain("user@example.com");
  });

  it("serves the worker's /healthz and /metrics on its health port", async () => {
    const line = await pipeline.worker.waitForLine(/worker health and metrics listening/);
    const { port } = JSON.parse(line) as { port: number };
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok", redis: "ready", running: true });
    const sentMetric = 'notification_channel_sends_total{channel="email",outcome="sent"}';
    const sentSoFar = async () => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return Number(
        new RegExp(`^${sentMetric.replace(/[{}]/g, "\\$&")} (\\d+)`, "m").exec(text)?.[1] ?? 0,
      );
    };
    const before = await sentSoFar();
    await deliverOne(pipeline);
    await eventually(async () => expect(await sentSoFar()).toBe(before + 1));
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toContain('bullmq_job_count{queue="notifications",state="waiting"}');
  });
});

describe("SIGTERM", () => {
  it("both processes exit 0, the worker after saying it stopped", async () => {
    const pipeline = await startPipeline();
    try {
      await deliverOne(pipeline);
      expect(await pipeline.worker.stop("SIGTERM")).toBe(0);
      expect(await pipeline.gateway.stop("SIGTERM")).toBe(0);
      expect(pipeline.worker.lines.some((line) => line.includes('"msg":"stopped"'))).toBe(true);
      // With Redis answering, stopping finishes: the shutdown never gives up waiting for it.
      const gaveUp = pipeline.worker.lines.filter((line) => line.includes("did not finish"));
      expect(gaveUp).toEqual([]);
    } finally {
      await pipeline.stop();
    }
  });
});

describe("a process with a bad environment", () => {
  it("the worker refuses to start in production without provider credentials, naming each variable", async () => {
    const worker = startService("worker", { NODE_ENV: "production", REDIS_URL: redisUrl() });
    expect(await worker.exited).toBe(1);
    const output = worker.lines.join("\n");
    for (const name of [
      "RESEND_API_KEY",
      "EMAIL_FROM",
      "TWILIO_ACCOUNT_SID",
      "TWILIO_AUTH_TOKEN",
      "TWILIO_FROM",
    ]) {
      expect(output).toContain(`${name}: is required in production`);
    }
  });

  it("the gateway refuses to start with a non-numeric PORT, naming it", async () => {
    const gateway = startService("gateway", {
      REDIS_URL: redisUrl(),
      PORT: "eighty",
      API_KEYS: TEST_API_KEY,
    });
    expect(await gateway.exited).toBe(1);
    expect(gateway.lines.join("\n")).toContain(
      "PORT: Invalid input: expected number, received NaN",
    );
  });

  it("the gateway refuses to start without any API key, naming API_KEYS", async () => {
    const gateway = startService("gateway", { REDIS_URL: redisUrl() });
    expect(await gateway.exited).toBe(1);
    expect(gateway.lines.join("\n")).toContain("API_KEYS: set API_KEYS or API_KEY_HASHES");
  });
});
