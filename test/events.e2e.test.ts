import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../scripts/redis-server.js";
import { type FakeEventsBackend, startFakeEventsBackend } from "./fakes/events-backend.js";
import { startFakeResend } from "./fakes/resend.js";
import { startFakeTwilio } from "./fakes/twilio.js";
import { eventually, redisUrl } from "./fixtures.js";
import {
  ADMIN_API_KEY,
  postNotification,
  TEST_API_KEY,
  VALID_NOTIFICATION,
} from "./gateway-fixture.js";
import { startRedisCluster } from "./redis-cluster.js";
import { startService, waitForGatewayReady } from "./support/processes.js";
import { providerEnv } from "./worker-fixture.js";

/** A gateway and a worker with events on, pointed at a fake backend, with a short schedule. */
async function startPipeline(backend: FakeEventsBackend, redis: Record<string, string> = {}) {
  const resend = await startFakeResend();
  const twilio = await startFakeTwilio();
  const port = await freePort();
  const shared = {
    REDIS_URL: redisUrl(),
    QUEUE_PREFIX: `e2e-${randomUUID()}`,
    LOG_LEVEL: "info",
    EVENTS_WEBHOOK_URL: backend.url,
    EVENTS_WEBHOOK_SECRET: backend.secret,
    ...redis,
  };
  const gateway = startService("gateway", {
    ...shared,
    PORT: String(port),
    API_KEYS: `${TEST_API_KEY},admin:${ADMIN_API_KEY}`,
  });
  const worker = startService("worker", {
    ...shared,
    ...providerEnv(resend, twilio),
    EVENTS_RETRY_SCHEDULE_MS: "100,200,400,800,1600,3200",
  });
  await waitForGatewayReady(gateway, port);
  await worker.waitForLine(/worker ready/);
  return {
    resend,
    twilio,
    worker,
    baseUrl: `http://127.0.0.1:${port}`,
    async stop() {
      await Promise.all([gateway.stop("SIGKILL"), worker.stop("SIGKILL")]);
      await Promise.all([resend.close(), twilio.close()]);
    },
  };
}

/** Posts a notification and answers the ids of its two notification.sent events, once received. */
async function sendOne(
  pipeline: Awaited<ReturnType<typeof startPipeline>>,
  backend: FakeEventsBackend,
) {
  const response = await postNotification(pipeline.baseUrl, {
    ...VALID_NOTIFICATION,
    order: randomUUID(),
  });
  expect(response.status).toBe(202);
  const { id } = (await response.json()) as { id: string };
  return eventually(
    () => {
      const sent = backend.accepted().filter((entry) => entry.event.data.notificationId === id);
      expect(sent.map((entry) => entry.event.data.channel).sort()).toEqual(["email", "sms"]);
      return { id, eventIds: sent.map((entry) => entry.webhookId) };
    },
    { timeout: 20_000 },
  );
}

describe("events to the backend, through real gateway and worker processes", () => {
  let backend: FakeEventsBackend;
  let pipeline: Awaited<ReturnType<typeof startPipeline>>;
  beforeAll(async () => {
    backend = await startFakeEventsBackend();
    pipeline = await startPipeline(backend);
  });
  afterAll(async () => {
    await backend?.close();
    await pipeline?.stop();
  });

  it("delivers notification.sent for each channel, signed, once per id", async () => {
    const { eventIds } = await sendOne(pipeline, backend);
    for (const eventId of eventIds) {
      const received = backend.received.filter((entry) => entry.webhookId === eventId);
      expect(received).toHaveLength(1);
      expect(received[0]?.verified).toBe(true);
      expect(received[0]?.event).toMatchObject({ id: eventId, type: "notification.sent" });
    }
  });

  it("delivers what happened while the backend was down once it is back, each id once", async () => {
    backend.behaviour.status = 503;
    const response = await postNotification(pipeline.baseUrl, {
      ...VALID_NOTIFICATION,
      order: randomUUID(),
    });
    const { id } = (await response.json()) as { id: string };
    const refused = () =>
      backend.received.filter(
        (entry) => entry.event.data.notificationId === id && entry.answered === 503,
      );
    // A few tries of both events fail; then the backend refuses connections for a while.
    await eventually(() => expect(refused().length).toBeGreaterThanOrEqual(4), { timeout: 20_000 });
    await backend.goDown();
    await pipeline.worker.waitForLine(/POST failed/);
    backend.behaviour.status = 204;
    await backend.comeBack();
    const accepted = await eventually(
      () => {
        const found = backend.accepted().filter((entry) => entry.event.data.notificationId === id);
        expect(found).toHaveLength(2);
        return found;
      },
      { timeout: 20_000 },
    );
    expect(new Set(accepted.map((entry) => entry.webhookId)).size).toBe(2);
    for (const entry of accepted) {
      expect(entry.verified).toBe(true);
      // Every try carried the same id.
      const tries = backend.received.filter((other) => other.event.id === entry.event.id);
      expect(new Set(tries.map((other) => other.webhookId))).toEqual(new Set([entry.event.id]));
    }
  });

  it("replays a time range with the original ids through the gateway", async () => {
    const from = new Date();
    const { eventIds } = await sendOne(pipeline, backend);
    const response = await fetch(`${pipeline.baseUrl}/events/replay`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({
        from: from.toISOString(),
        to: new Date(Date.now() + 1000).toISOString(),
      }),
    });
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ replayed: 2 });
    await eventually(() => {
      for (const eventId of eventIds) {
        const accepted = backend.accepted().filter((entry) => entry.webhookId === eventId);
        expect(accepted).toHaveLength(2);
        expect(accepted[1]?.event).toEqual(accepted[0]?.event);
      }
    });
  });
});

describe("events on a Redis Cluster", () => {
  it("publishes, delivers and replays with a hash-tagged prefix (the log's script keys in one slot)", async () => {
    const cluster = await startRedisCluster();
    const backend = await startFakeEventsBackend();
    const pipeline = await startPipeline(backend, {
      REDIS_URL: cluster.url,
      REDIS_CLUSTER: "true",
      QUEUE_PREFIX: "{notifications}",
    });
    try {
      const from = new Date();
      const { eventIds } = await sendOne(pipeline, backend);
      const response = await fetch(`${pipeline.baseUrl}/events/replay`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN_API_KEY}`, "content-type": "application/json" },
        body: JSON.stringify({
          from: from.toISOString(),
          to: new Date(Date.now() + 1000).toISOString(),
        }),
      });
      expect(response.status).toBe(202);
      expect(await response.json()).toMatchObject({ replayed: 2 });
      await eventually(() => {
        for (const eventId of eventIds) {
          expect(backend.accepted().filter((entry) => entry.webhookId === eventId)).toHaveLength(2);
        }
      });
    } finally {
      await pipeline.stop();
      await backend.close();
      await cluster.stop();
    }
  });
});

describe("a process with a bad events secret", () => {
  it.each(["worker", "gateway"] as const)(
    "the %s refuses to start, naming the variable",
    async (name) => {
      const service = startService(name, {
        REDIS_URL: redisUrl(),
        API_KEYS: TEST_API_KEY,
        EVENTS_WEBHOOK_URL: "https://backend.example.com/events",
        EVENTS_WEBHOOK_SECRET: "not-a-whsec-secret",
      });
      expect(await service.exited).toBe(1);
      expect(service.lines.join("\n")).toContain(
        "EVENTS_WEBHOOK_SECRET: must be whsec_ followed by a base64 key",
      );
    },
  );
});
