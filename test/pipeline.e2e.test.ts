import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../scripts/redis-server.js";
import { type FakeResend, startFakeResend } from "./fakes/resend.js";
import { type FakeTwilio, startFakeTwilio } from "./fakes/twilio.js";
import { eventually, redisUrl } from "./fixtures.js";
import { postNotification, TEST_API_KEY } from "./gateway-fixture.js";
import { type ServiceProcess, startService } from "./processes.js";
import { providerEnv } from "./worker-fixture.js";

describe("the pipeline as real processes", () => {
  let resend: FakeResend;
  let twilio: FakeTwilio;
  let gateway: ServiceProcess;
  let worker: ServiceProcess;
  let baseUrl: string;

  beforeAll(async () => {
    resend = await startFakeResend();
    twilio = await startFakeTwilio();
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    const shared = {
      REDIS_URL: redisUrl(),
      QUEUE_PREFIX: `e2e-${randomUUID()}`,
      LOG_LEVEL: "info",
    };
    gateway = startService("gateway", {
      ...shared,
      PORT: String(port),
      API_KEYS: `other-key-0123456789abcdef,${TEST_API_KEY}`,
    });
    worker = startService("worker", { ...shared, ...providerEnv(resend, twilio) });
    await gateway.waitForLine(/gateway listening/);
    await worker.waitForLine(/worker ready/);
  });

  afterAll(async () => {
    await Promise.all([gateway?.stop(), worker?.stop()]);
    await Promise.all([resend?.close(), twilio?.close()]);
  });

  it("delivers a POSTed notification by email and SMS and reports it completed", async () => {
    const response = await postNotification(baseUrl);
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };

    await eventually(() => {
      expect(resend.emails).toHaveLength(1);
      expect(twilio.messages).toHaveLength(1);
    });
    expect(resend.emails[0]?.to).toBe("user@example.com");
    expect(twilio.messages[0]?.to).toBe("+12025550143");

    const status = await eventually(async () => {
      const res = await fetch(`${baseUrl}/notifications/${id}`, {
        headers: { authorization: `Bearer ${TEST_API_KEY}` },
      });
      const body = (await res.json()) as { status: string };
      expect(body.status).toBe("completed");
      return body;
    });
    expect(status).toMatchObject({
      channels: {
        email: { status: "sent", providerId: resend.emails[0]?.id },
        sms: { status: "sent", providerId: twilio.messages[0]?.sid },
      },
    });
  });

  it("logs one JSON line per request with route, status and duration, and no API key", async () => {
    await fetch(`${baseUrl}/healthz`);
    const line = await gateway.waitForLine(/"route":"\/healthz"/);
    const entry = JSON.parse(line) as Record<string, unknown>;
    expect(entry).toMatchObject({ method: "GET", route: "/healthz", status: 200, msg: "request" });
    expect(typeof entry.durationMs).toBe("number");
    expect(gateway.lines.join("\n")).not.toContain(TEST_API_KEY);
    expect(worker.lines.join("\n")).not.toContain("user@example.com");
  });

  it("serves the worker's /healthz and /metrics on its health port", async () => {
    const line = await worker.waitForLine(/worker health and metrics listening/);
    const { port } = JSON.parse(line) as { port: number };
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok", redis: "ready", running: true });
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toContain('notification_channel_sends_total{channel="email",outcome="sent"} 1');
    expect(metrics).toContain('bullmq_job_count{queue="notifications",state="waiting"} 0');
  });

  it("both processes exit 0 on SIGTERM", async () => {
    expect(await worker.stop("SIGTERM")).toBe(0);
    expect(await gateway.stop("SIGTERM")).toBe(0);
    expect(worker.lines.some((line) => line.includes('"msg":"stopped"'))).toBe(true);
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
