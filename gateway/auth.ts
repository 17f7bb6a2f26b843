import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context, MiddlewareHandler } from "hono";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import type { RedisConnection } from "../lib/redis.js";
import { type AcceptedKey, keyMatcher } from "./api-keys.js";
import type { GatewayEnv } from "./app-types.js";
import { ApiError } from "./errors.js";

/** Brute-force protection: failed attempts per client and minute, shared through Redis. */
export interface AuthFailureLimit {
  redis: RedisConnection;
  keyPrefix: string;
  perMinute: number;
  /** A header the platform's proxy sets to the client's address (Fly: Fly-Client-IP). */
  clientIpHeader?: string;
  /**
   * How many proxies in front of the gateway append to that header: the client is the entry
   * that many places from the right (the rightmost one no trusted proxy wrote). Entries further
   * left are the client's own words and never trusted.
   */
  trustedProxyHops?: number;
}

const UNAUTHORIZED_HEADERS = { "WWW-Authenticate": 'Bearer realm="notifications"' };

/**
 * Accepts `Authorization: Bearer <key>` when the key is one of the accepted keys, and names it
 * (`apiKeyId`, `apiKeyAdmin`) for the routes. The key is verified first, always: failed attempts
 * can slow an attacker down, never lock out a valid key, whoever shares its address.
 *
 * Failures are counted per client address with rate-limiter-flexible in Redis (every replica
 * adds to one count, keys expire with their minute); while Redis is unreachable an in-memory
 * limiter insures the count. Over the limit, a wrong key gets 429 instead of 401.
 */
export function requireApiKey(
  keys: readonly AcceptedKey[],
  failures?: AuthFailureLimit,
): MiddlewareHandler<GatewayEnv> {
  const limiter = failures
    ? new RateLimiterRedis({
        storeClient: failures.redis,
        keyPrefix: `${failures.keyPrefix}:auth-failures`,
        points: failures.perMinute,
        duration: 60,
        insuranceLimiter: new RateLimiterMemory({ points: failures.perMinute, duration: 60 }),
      })
    : undefined;

  const matchKey = keyMatcher(keys);
  return async (c, next) => {
    const match = /^Bearer (.+)$/.exec(c.req.header("authorization") ?? "");
    const key = match?.[1] ? matchKey(match[1]) : undefined;
    if (key) {
      c.set("apiKeyId", key.id);
      c.set("apiKeyAdmin", key.admin);
      return next();
    }
    if (limiter && failures) {
      const client = clientAddress(c, failures);
      const over = await limiter.consume(client).then(
        () => false,
        (rejection: unknown) => rejection instanceof RateLimiterRes,
      );
      if (over) {
        throw new ApiError(
          "TOO_MANY_REQUESTS",
          "Too many failed authentication attempts; retry later",
          {
            "Retry-After": "60",
          },
        );
      }
    }
    throw new ApiError("UNAUTHORIZED", "Missing or invalid API key", UNAUTHORIZED_HEADERS);
  };
}

/**
 * The client's address: with a proxy header, the entry `trustedProxyHops` places from its right
 * end (default 1: the address the last proxy saw); else the socket's peer.
 */
export function clientAddress(
  c: Context,
  options: { clientIpHeader?: string; trustedProxyHops?: number },
): string {
  const fromHeader = options.clientIpHeader ? c.req.header(options.clientIpHeader) : undefined;
  if (fromHeader) {
    const hops = fromHeader.split(",").map((entry) => entry.trim());
    return hops[hops.length - (options.trustedProxyHops ?? 1)] ?? hops[0] ?? "unknown";
  }
  try {
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    return "unknown"; // no socket: an in-process request (tests)
  }
}
