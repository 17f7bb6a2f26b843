import type { RedisConnection } from "../lib/redis.js";
import { ApiError } from "./errors.js";

/**
 * Fails fast with 503 while the Redis connection is not ready: BullMQ would otherwise wait for
 * the reconnect and the caller's request would hang. Reads the connection state, sends nothing.
 */
export function requireRedis(redis: RedisConnection): void {
  if (redis.status !== "ready") throw queueUnavailable();
}

/** The 503 every route answers when the queue cannot be reached. */
export function queueUnavailable(): ApiError {
  return new ApiError("SERVICE_UNAVAILABLE", "The notification queue is unavailable; retry later", {
    "Retry-After": "1",
  });
}
