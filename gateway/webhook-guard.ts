import type { MiddlewareHandler } from "hono";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import type { RedisConnection } from "../lib/redis.js";
import type { GatewayEnv } from "./app-types.js";
import { clientAddress } from "./auth.js";
import { ApiError } from "./errors.js";

/**
 * Webhook requests per client address and minute, counted with rate-limiter-flexible in Redis
 * (every replica adds to one count; an in-memory limiter insures it while Redis is out). The
 * webhooks need no API key, so this and the signature are their only gate. Resend and Twilio
 * post from a few addresses: the limit must sit above their peak (a burst of callbacks after a
 * large send), or Twilio, which does not retry a refused status callback, loses statuses.
 */
export function limitWebhooksPerClient(options: {
  redis: RedisConnection;
  keyPrefix: string;
  perMinute: number;
  clientIpHeader?: string;
  trustedProxyHops?: number;
}): MiddlewareHandler<GatewayEnv> {
  const limiter = new RateLimiterRedis({
    storeClient: options.redis,
    keyPrefix: `${options.keyPrefix}:webhook-limit`,
    points: options.perMinute,
    duration: 60,
    insuranceLimiter: new RateLimiterMemory({ points: options.perMinute, duration: 60 }),
  });
  return async (c, next) => {
    const client = clientAddress(c, options);
    try {
      await limiter.consume(client);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      throw new ApiError("TOO_MANY_REQUESTS", "Too many webhook requests from this address", {
        "Retry-After": String(Math.max(1, Math.ceil(rejection.msBeforeNext / 1000))),
      });
    }
    await next();
  };
}
