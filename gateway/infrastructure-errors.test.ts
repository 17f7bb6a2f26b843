import { Queue, UnrecoverableError, Worker } from "bullmq";
import { afterEach, describe, expect, it } from "vitest";
import { NOTIFICATION_QUEUE, TRADE_EXECUTED_JOB } from "../contract/notification-job.js";
import { createProducerConnection, type RedisConnection } from "../lib/redis.js";
import { type RedisServer, startRedisServer } from "../scripts/redis-server.js";
import { createTestQueue, eventually, workerRedis } from "../test/fixtures.js";
import {
  ADMIN_API_KEY,
  gatewayOver,
  TEST_API_KEY,
  VALID_NOTIFICATION,
} from "../test/gateway-fixture.js";
import { infrastructureError } from "./infrastructure-errors.js";

describe("infrastructureError", () => {
  it.each([
    ["Command timed out", "SERVICE_UNAVAILABLE"],
    ["Stream isn't writeable and enableOfflineQueue options is false", "SERVICE_UNAVAILABLE"],
    ["Connection is closed.", "SERVICE_UNAVAILABLE"],
    ["READONLY You can't write against a read only replica.", "SERVICE_UNAVAILABLE"],
    ["OOM command not allowed when used memory > 'maxmemory'.", "SERVICE_UNAVAILABLE"],
    ["LOADING Redis is loading the dataset in memory", "SERVICE_UNAVAILABLE"],
  ])("answers %s with 503", (message, code) => {
    expect(infrastructureError(new Error(message))?.code).toBe(code);
  });

  it("answers BullMQ's not-in-state and lock errors, and a locked remove, with 409", () => {
    for (const code of [-1, -2, -3, -6]) {
      const err = Object.assign(new Error(`Job 1 … reprocessJob`), { code });
      expect(infrastructureError(err)?.code).toBe("CONFLICT");
    }
    const locked = new Error("Job 1 could not be removed because it is locked by another worker");
    expect(infrastructureError(locked)?.code).toBe("CONFLICT");
  });

  it("leaves other errors to the error handler's 500", () => {
    expect(infrastructureError(new TypeError("x is undefined"))).toBeUndefined();
    expect(infrastructureError("not an error")).toBeUndefined();
  });
});

describe("routes with Redis paused (the process stopped: connected, never answering)", () => {
  let redis: RedisServer | undefined;
  let connection: RedisConnection | undefined;
  let queue: Queue | undefined;
  afterEach(async () => {
    redis?.process.kill("SIGCONT");
    await queue?.close();
    connection?.disconnect();
    await redis?.stop();
  });

  async function pausedGateway() {
    redis = await startRedisServer();
    connection = createProducerConnection(redis.url);
    connection.on("error", () => {});
    queue = new Queue(NOTIFICATION_QUEUE, { connection, prefix: "paused" });
    queue.on("error", () => {});
    const job = await queue.add(TRADE_EXECUTED_JOB, VALID_NOTIFICATION, { jobId: "job-1" });
    // The per-key limit off: it would answer the 503 before the route is reached.
    const gateway = gatewayOver(
      { queue, redis: connection },
      { limits: { perKeyPerMinute: 0, authFailuresPerMinute: 20 } },
    );
    redis.process.kill("SIGSTOP");
    return { gateway, id: String(job.id) };
  }

  it("GET /notifications/{id} answers 503 with Retry-After within two seconds", async () => {
    const { gateway, id } = await pausedGateway();
    const started = performance.now();
    const response = await gateway.get(`/notifications/${id}`);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("1");
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
      "SERVICE_UNAVAILABLE",
    );
  });

  it("POST /notifications/{id}/retry answers 503", async () => {
    const { gateway, id } = await pausedGateway();
    const response = await gateway.app.request(`/notifications/${id}/retry`, {
      method: "POST",
      headers: { authorization: `Bearer ${TEST_API_KEY}` },
    });
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("1");
  });
});

describe("routes racing each other", () => {
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
  });

  it("two concurrent retries of one failed notification: one 202, one 409, never a 500", async () => {
    const fixture = await createTestQueue();
    const connection = workerRedis();
    const worker = new Worker(
      NOTIFICATION_QUEUE,
      async () => {
        throw new UnrecoverableError("fails for the test");
      },
      { connection, prefix: fixture.prefix },
    );
    cleanup = async () => {
      await worker.close();
      await connection.quit();
      await fixture.cleanup();
    };
    const job = await fixture.queue.add(TRADE_EXECUTED_JOB, VALID_NOTIFICATION, { jobId: "f-1" });
    await eventually(async () => expect(await job.getState()).toBe("failed"));
    await worker.close();
    const gateway = gatewayOver(fixture);
    const statuses = await Promise.all(
      [1, 2].map(async () => {
        const response = await gateway.app.request(`/notifications/${job.id}/retry`, {
          method: "POST",
          headers: { authorization: `Bearer ${ADMIN_API_KEY}` },
        });
        return response.status;
      }),
    );
    expect(statuses.sort()).toEqual([202, 409]);
  });
});
