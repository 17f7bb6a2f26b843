import { randomUUID } from "node:crypto";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { inject } from "vitest";
import { NOTIFICATION_QUEUE } from "../contract/notification-job.js";
import { createLogger, type Logger } from "../lib/logger.js";
import { createProducerConnection } from "../lib/redis.js";

/** The suite's Redis (see global-setup.ts). */
export function redisUrl(): string {
  return inject("redisUrl");
}

/** A logger that keeps quiet unless TEST_LOG_LEVEL asks otherwise. */
export function testLogger(): Logger {
  return createLogger({
    name: "test",
    level: process.env.TEST_LOG_LEVEL ?? "silent",
    pretty: false,
  });
}

/**
 * The `notifications` queue under a prefix of its own, so tests never see each other's jobs.
 * `cleanup` removes every key of the prefix and closes the connections.
 */
export async function createTestQueue() {
  const prefix = `test-${randomUUID()}`;
  const redis = createProducerConnection(redisUrl());
  await new Promise<void>((resolve, reject) => {
    if (redis.status === "ready") return resolve();
    redis.once("ready", resolve);
    redis.once("error", reject);
  });
  const queue = new Queue(NOTIFICATION_QUEUE, { connection: redis, prefix });
  return {
    prefix,
    queue,
    redis,
    async cleanup() {
      await queue.obliterate({ force: true });
      await queue.close();
      await redis.quit();
    },
  };
}

/** An ioredis connection to the suite's Redis that waits as a worker's does. */
export function workerRedis(): Redis {
  return new Redis(redisUrl(), { maxRetriesPerRequest: null });
}

export { eventually } from "./support/wait.js";
