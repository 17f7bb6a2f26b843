import type { MiddlewareHandler } from "hono";
import { RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import type { RedisConnection } from "../lib/redis.js";
import type { GatewayEnv } from "./app-types.js";
import { ApiError } from "./errors.js";

/**
 * Notifications per API key and minute, counted with rate-limiter-flexible in Redis so every
 * gateway replica shares the budget: a request costs one, a batch one per item (the batch route
 * charges the rest through `chargeApiLimit`). Answers with the IETF RateLimit-* headers, and 429
 * with Retry-After past the limit. When Redis cannot count, the request could not be queued
 * either: the error handler answers 503 at once.
 */
export function limitPerApiKey(options: {
  redis: RedisConnection;
  keyPrefix: string;
  perMinute: number;
}): MiddlewareHandler<GatewayEnv> {
  const limiter = new RateLimiterRedis({
    storeClient: options.redis,
    keyPrefix: `${options.keyPrefix}:api-limit`,
    points: options.perMinute,
    duration: 60,
  });
  const headersOf = (state: RateLimiterRes) => ({
    "RateLimit-Limit": String(options.perMinute),
    "RateLimit-Remaining": String(Math.max(0, state.remainingPoints)),
    "RateLimit-Reset": String(Math.ceil(state.msBeforeNext / 1000)),
  });

  return async (c, next) => {
    const key = c.get("apiKeyId");
    let headers: Record<string, string> = {};
    const charge = async (points: number) => {
      if (points <= 0) return;
      try {
        headers = headersOf(await limiter.consume(key, points));
      } catch (rejection) {
        if (!(rejection instanceof RateLimiterRes)) throw rejection;
        const limited = headersOf(rejection);
        throw new ApiError(
          "TOO_MANY_REQUESTS",
          `Rate limit of ${options.perMinute} notifications a minute exceeded`,
          { ...limited, "Retry-After": limited["RateLimit-Reset"] ?? "60" },
        );
      }
    };
    await charge(1);
    c.set("chargeApiLimit", charge);
    await next();
    for (const [name, value] of Object.entries(headers)) c.header(name, value);
  };
}
