import { afterEach, describe, expect, it } from "vitest";
import { freePort, type RedisServer, startRedisServer } from "../scripts/redis-server.js";
import { type FakeResend, startFakeResend } from "./fakes/resend.js";
import { type FakeTwilio, startFakeTwilio } from "./fakes/twilio.js";
import { eventually } from "./fixtures.js";
import { type ServiceProcess, startService } from "./support/processes.js";
import { providerEnv } from "./worker-fixture.js";

describe("the worker's /metrics with Redis down", () => {
  let redis: RedisServer | undefined;
  let worker: ServiceProcess | undefined;
  let fakes: [FakeResend, FakeTwilio] | undefined;
  afterEach(async () => {
    await worker?.stop("SIGKILL");
    await redis?.stop();
    await Promise.all(fakes?.map((fake) => fake.close()) ?? []);
  });

  it("answers within a second, with notifications_queue_metrics_up 0", async () => {
    redis = await startRedisServer();
    fakes = [await startFakeResend(), await startFakeTwilio()];
    const port = await freePort();
    worker = startService("worker", {
      REDIS_URL: redis.url,
      WORKER_HEALTH_PORT: String(port),
      ...providerEnv(...fakes),
    });
    await worker.waitForLine(/worker ready/);
    const metrics = () =>
      fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(1000) });
    expect(await (await metrics()).text()).toContain("notifications_queue_metrics_up 1");

    redis.process.kill("SIGKILL");
    await new Promise((resolve) => redis?.process.once("exit", resolve));
    // The queue counts are cached for 5 s: wait for a read that has to go to Redis.
    const text = await eventually(
      async () => {
        const response = await metrics();
        expect(response.status).toBe(200);
        const body = await response.text();
        expect(body).toContain("notifications_queue_metrics_up 0");
        return body;
      },
      { timeout: 15_000, interval: 500 },
    );
    expect(text).toContain("notification_jobs_total");
  });
});
