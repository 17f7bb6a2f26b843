import { Queue } from "bullmq";

import { NOTIFICATION_QUEUE } from "../contract/notification-job.js";
import { createApp, createGateway } from "../gateway/app.js";
import type { GatewayDeps } from "../gateway/app-types.js";
import { DEFAULT_JOB_SETTINGS } from "../lib/env.js";
import { createProducerConnection, type RedisConnection } from "../lib/redis.js";
import { freePort } from "../scripts/redis-server.js";
import { createTestQueue, testLogger } from "./fixtures.js";

/** A key the test gateway accepts. */
export const TEST_API_KEY = "test-key-0123456789abcdef";
/** A second accepted key, as during a rotation. */
export const ROTATED_API_KEY = "rotated-key-0123456789abcdef";
/** An admin-scoped key: it sees every notification, direct producers' included. */
export const ADMIN_API_KEY = "admin-key-0123456789abcdef";

/** The seed payload existing backends send, plus a phone. */
export const VALID_NOTIFICATION = {
  to: "user@example.com",
  phone: "+12025550143",
  asset: "BTC",
  amount: 1000,
  quantity: 0.02,
  order: "order-id-123",
};

/** The gateway app over a private queue, driven in-process with `app.request()`. */
export async function createTestGateway() {
  return gatewayOver(await createTestQueue());
}

/** The gateway app over an existing queue fixture (for example a worker harness's). */
export function gatewayOver<F extends { queue: Queue; redis: RedisConnection }>(
  fixture: F,
  overrides: Partial<GatewayDeps> = {},
) {
  const { app, metricsApp } = createGateway({
    queue: fixture.queue,
    redis: fixture.redis,
    apiKeys: [TEST_API_KEY, ROTATED_API_KEY, `admin:${ADMIN_API_KEY}`],
    jobSettings: { attempts: 4, backoffDelayMs: 2000 },
    logger: testLogger(),
    ...overrides,
  });
  return {
    ...fixture,
    app,
    /** The /metrics app the gateway serves on METRICS_PORT. */
    metricsApp,
    /** `POST /notifications` with a JSON body (a string is sent as is) and the test key. */
    post(body: unknown, headers: Record<string, string> = {}) {
      return app.request("/notifications", {
        method: "POST",
        headers: {
          authorization: `Bearer ${TEST_API_KEY}`,
          "content-type": "application/json",
          ...headers,
        },
        body: typeof body === "string" ? body : JSON.stringify(body),
      });
    },
    get(path: string, headers: Record<string, string> = {}) {
      return app.request(path, {
        headers: { authorization: `Bearer ${TEST_API_KEY}`, ...headers },
      });
    },
    /** Jobs in the queue, in any state. */
    jobCount() {
      return fixture.queue.getJobCountByTypes(
        "waiting",
        "delayed",
        "active",
        "completed",
        "failed",
        "prioritized",
      );
    },
  };
}

export type TestGateway = ReturnType<
  typeof gatewayOver<Awaited<ReturnType<typeof createTestQueue>>>
>;

/** The gateway app over a Redis URL where nothing listens, as during an outage. */
export async function createUnreachableGateway() {
  const redis = createProducerConnection(`redis://127.0.0.1:${await freePort()}`);
  redis.on("error", () => {});
  const queue = new Queue(NOTIFICATION_QUEUE, { connection: redis });
  queue.on("error", () => {});
  const app = createApp({
    queue,
    redis,
    apiKeys: [TEST_API_KEY],
    jobSettings: DEFAULT_JOB_SETTINGS,
    logger: testLogger(),
  });
  return {
    app,
    async close() {
      await queue.close();
      redis.disconnect();
    },
  };
}

/** `POST /notifications` over HTTP to a running gateway, with the test key unless headers say otherwise. */
export function postNotification(
  baseUrl: string,
  body: unknown = VALID_NOTIFICATION,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${baseUrl}/notifications`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${TEST_API_KEY}`,
      "content-type": "application/json",
      ...headers,
    },
    body: JSON.stringify(body),
  });
}
