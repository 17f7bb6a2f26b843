import { rmSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, type RedisServer, startRedisServer } from "../scripts/redis-server.js";
import { TEST_RESEND_WEBHOOK_SECRET } from "./delivery-fixture.js";
import { type FakeResend, startFakeResend } from "./fakes/resend.js";
import { type FakeTwilio, startFakeTwilio } from "./fakes/twilio.js";
import { eventually } from "./fixtures.js";
import { postNotification, TEST_API_KEY, VALID_NOTIFICATION } from "./gateway-fixture.js";
import { startRedisCluster } from "./redis-cluster.js";
import { type ServiceProcess, startService, waitForGatewayReady } from "./support/processes.js";
import { makeTlsCertificates } from "./tls-certificates.js";
import { providerEnv } from "./worker-fixture.js";

/** Redis set-ups of real deployments: TLS with a password (Upstash), a bad eviction policy. */
describe("Redis as deployed", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups.length = 0;
  });

  /** With `webhooks`, the fakes call the gateway's provider webhooks (delivery status). */
  async function startPipeline(env: Record<string, string>, options: { webhooks?: boolean } = {}) {
    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${port}`;
    const resend: FakeResend = await startFakeResend(
      options.webhooks
        ? { webhook: { url: `${publicUrl}/webhooks/resend`, secret: TEST_RESEND_WEBHOOK_SECRET } }
        : {},
    );
    const twilio: FakeTwilio = await startFakeTwilio(
      options.webhooks ? { deliveryDelayMs: 5 } : {},
    );
    const webhookEnv: Record<string, string> = options.webhooks
      ? {
          PUBLIC_URL: publicUrl,
          RESEND_WEBHOOK_SECRET: TEST_RESEND_WEBHOOK_SECRET,
          TWILIO_AUTH_TOKEN: twilio.authToken,
        }
      : {};
    const gateway: ServiceProcess = startService("gateway", {
      ...env,
      ...webhookEnv,
      PORT: String(port),
      API_KEYS: TEST_API_KEY,
      LOG_LEVEL: "debug",
    });
    const worker: ServiceProcess = startService("worker", {
      ...env,
      ...providerEnv(resend, twilio),
      ...(options.webhooks ? { PUBLIC_URL: publicUrl } : {}),
      LOG_LEVEL: "debug",
    });
    cleanups.push(async () => {
      await Promise.all([gateway.stop(), worker.stop()]);
      await Promise.all([resend.close(), twilio.close()]);
    });
    await waitForGatewayReady(gateway, port);
    await worker.waitForLine(/worker ready/);
    return { resend, twilio, gateway, worker, baseUrl: `http://127.0.0.1:${port}` };
  }

  it("works over rediss:// with a password, and never logs the password or a full contact", async () => {
    const tls = makeTlsCertificates();
    const password = "s3cret-redis-pass-0123";
    const redis: RedisServer = await startRedisServer({
      tls,
      extraArgs: ["--requirepass", password],
    });
    cleanups.push(
      () => rmSync(tls.dir, { recursive: true, force: true }),
      () => redis.stop(),
    );
    const url = redis.url.replace("rediss://", `rediss://:${password}@`);

    const { resend, twilio, gateway, worker, baseUrl } = await startPipeline({
      REDIS_URL: url,
      NODE_EXTRA_CA_CERTS: tls.caFile,
    });
    const response = await postNotification(baseUrl);
    expect(response.status).toBe(202);
    await eventually(() => {
      expect(resend.emails).toHaveLength(1);
      expect(twilio.messages).toHaveLength(1);
    });
    await worker.waitForLine(/notification delivered/);

    const logs = [...gateway.lines, ...worker.lines].join("\n");
    expect(logs).toContain(`rediss://:***@localhost:${redis.port}`);
    expect(logs).toContain('"to":"u***@example.com"');
    expect(logs).toContain('"to":"+1********43"');
    for (const secret of [
      password,
      TEST_API_KEY,
      resend.apiKey,
      twilio.authToken,
      "user@example.com",
      "+12025550143",
    ]) {
      expect(logs).not.toContain(secret);
    }
  });

  it("delivers through a three-node Redis Cluster with a hash-tagged prefix", async () => {
    const cluster = await startRedisCluster();
    cleanups.push(() => cluster.stop());
    const { resend, twilio, worker, baseUrl } = await startPipeline(
      { REDIS_URL: cluster.url, REDIS_CLUSTER: "true", QUEUE_PREFIX: "{notifications}" },
      { webhooks: true },
    );
    const post = (headers: Record<string, string> = {}) =>
      postNotification(baseUrl, VALID_NOTIFICATION, headers);
    const first = await post({ "idempotency-key": "cluster-1" });
    expect(first.status).toBe(202);
    const { id } = (await first.json()) as { id: string };
    // The idempotency store works on the cluster too.
    expect(
      ((await (await post({ "idempotency-key": "cluster-1" })).json()) as { id: string }).id,
    ).toBe(id);
    await eventually(() => {
      expect(resend.emails).toHaveLength(1);
      expect(twilio.messages).toHaveLength(1);
    });
    await worker.waitForLine(/notification delivered/);
    // Delivery status (the webhooks' and the worker's scripts) works on the cluster too.
    await eventually(async () => {
      const status = await fetch(`${baseUrl}/notifications/${id}`, {
        headers: { authorization: `Bearer ${TEST_API_KEY}` },
      });
      expect(await status.json()).toMatchObject({
        status: "completed",
        channels: {
          email: { delivery: { status: "delivered" } },
          sms: { delivery: { status: "delivered" } },
        },
      });
    });
  });

  it("refuses a cluster without a hash-tagged prefix, naming QUEUE_PREFIX", async () => {
    const gateway = startService("gateway", {
      REDIS_URL: "redis://127.0.0.1:7000",
      REDIS_CLUSTER: "true",
      API_KEYS: TEST_API_KEY,
    });
    expect(await gateway.exited).toBe(1);
    expect(gateway.lines.join("\n")).toContain(
      "QUEUE_PREFIX: must contain a hash tag such as {notifications} when REDIS_CLUSTER=true",
    );
  });

  it("warns in the log and in /readyz when Redis may evict keys", async () => {
    const redis = await startRedisServer({ extraArgs: ["--maxmemory-policy", "allkeys-lru"] });
    cleanups.push(() => redis.stop());
    const { gateway, worker, baseUrl } = await startPipeline({ REDIS_URL: redis.url });
    const warning =
      'Redis maxmemory-policy is "allkeys-lru": set it to "noeviction", or Redis may evict queued notifications';
    await gateway.waitForLine(/maxmemory-policy/);
    await worker.waitForLine(/maxmemory-policy/);
    const ready = await fetch(`${baseUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready", redis: "ready", warnings: [warning] });
  });
});
