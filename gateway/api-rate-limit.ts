import type { MiddlewareHandler } from "hono";
import { countInWindow } from "../lib/fixed-window.js";
import type { RedisConnection } from "../lib/redis.js";
import type { GatewayEnv } from "./app-types.js";
import { ApiError } from "./errors.js";

/**
 * Requests per API key and minute, counted in Redis so every gateway replica shares the budget.
 * Answers with the IETF RateLimit-* headers, and 429 with Retry-After past the limit. When Redis
 * cannot count, the request could not be queued either: the error handler answers 503 at once.
 */
export function limitPerApiKey(options: {
  redis: RedisConnection;
  keyPrefix: string;
  perMinute: number;
}): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    const window = await countInWindow(
      options.redis,
      `${options.keyPrefix}:api-limit:${c.get("apiKeyId")}`,
      60_000,
    );
    const resetSeconds = String(Math.ceil(window.resetMs / 1000));
    const headers = {
      "RateLimit-Limit": String(options.perMinute),
      "RateLimit-Remaining": String(Math.max(0, options.perMinute - window.count)),
      "RateLimit-Reset": resetSeconds,
    };
    if (window.count > options.perMinute) {
      throw new ApiError(
        "TOO_MANY_REQUESTS",
        `Rate limit of ${options.perMinute} requests a minute exceeded`,
        {
          ...headers,
          "Retry-After": resetSeconds,
        },
      );
    }
    await next();
    for (const [name, value] of Object.entries(headers)) c.header(name, value);
  };
}
