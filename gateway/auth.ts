import { createHash, timingSafeEqual } from "node:crypto";
import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context, MiddlewareHandler } from "hono";
import { countInWindow } from "../lib/fixed-window.js";
import type { RedisConnection } from "../lib/redis.js";
import type { GatewayEnv } from "./app-types.js";
import { ApiError } from "./errors.js";

function sha256(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}

/** A stable, non-secret name for an API key: scopes idempotency keys and rate limits per caller. */
export function apiKeyId(key: string): string {
  return sha256(key).toString("hex").slice(0, 16);
}

/** The accepted keys: plaintext (API_KEYS) or as SHA-256 hex digests (API_KEY_HASHES). */
export interface AcceptedKeys {
  apiKeys: readonly string[];
  apiKeyHashes?: readonly string[];
}

/** Brute-force protection: failed attempts per client and minute, shared through Redis. */
export interface AuthFailureLimit {
  redis: RedisConnection;
  keyPrefix: string;
  perMinute: number;
  /** A header the platform's proxy sets to the client's address (Fly: Fly-Client-IP). */
  clientIpHeader?: string;
}

const UNAUTHORIZED_HEADERS = { "WWW-Authenticate": 'Bearer realm="notifications"' };

/**
 * Accepts `Authorization: Bearer <key>` when the key is one of the accepted keys.
 * Candidates are hashed first so every comparison is between equal-length digests, and every
 * accepted key is compared (no early exit): the time taken does not tell how close a guess was,
 * and keys can be stored as digests so no plaintext key needs to live in the environment.
 * Several keys are accepted at once so a key can be rotated without downtime.
 * A client with too many failures in a minute gets 429 until the minute is over.
 */
export function requireApiKey(
  keys: AcceptedKeys,
  failures?: AuthFailureLimit,
): MiddlewareHandler<GatewayEnv> {
  const digests = [
    ...keys.apiKeys.map(sha256),
    ...(keys.apiKeyHashes ?? []).map((hex) => Buffer.from(hex, "hex")),
  ];
  // Clients over the failure limit, until their window ends. Failures are counted in Redis (all
  // replicas add to one count); the block is remembered here, so a request with a good key costs
  // no Redis round trip. A replica learns of a block at the client's next failure it sees.
  const blocked = new Map<string, number>();
  return async (c, next) => {
    const client = failures ? clientAddress(c, failures.clientIpHeader) : "";
    const blockedUntil = blocked.get(client);
    if (blockedUntil !== undefined) {
      if (blockedUntil > Date.now()) throw tooManyFailures();
      blocked.delete(client);
    }
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer (.+)$/.exec(header);
    const candidate = sha256(match?.[1] ?? "");
    let accepted: Buffer | undefined;
    for (const digest of digests) {
      if (timingSafeEqual(candidate, digest)) accepted = digest;
    }
    if (!match || !accepted) {
      if (failures) {
        const key = `${failures.keyPrefix}:auth-failures:${client}`;
        // A wrong key is a 401 whatever Redis does: a failure that cannot be counted is not one.
        const window = await countInWindow(failures.redis, key, 60_000).catch(() => undefined);
        // The failure that reaches the limit is still a 401; the client's next request is a 429.
        if (window && window.count >= failures.perMinute)
          blocked.set(client, Date.now() + window.resetMs);
      }
      throw new ApiError("UNAUTHORIZED", "Missing or invalid API key", UNAUTHORIZED_HEADERS);
    }
    c.set("apiKeyId", accepted.toString("hex").slice(0, 16)); // the same as apiKeyId(key)
    await next();
  };
}

function tooManyFailures(): ApiError {
  return new ApiError("TOO_MANY_REQUESTS", "Too many failed authentication attempts; retry later", {
    "Retry-After": "60",
  });
}

/** The client's address: the trusted proxy header when configured, else the socket's peer. */
function clientAddress(c: Context, header?: string): string {
  const fromHeader = header ? c.req.header(header) : undefined;
  if (fromHeader) return fromHeader.split(",")[0]?.trim() ?? "unknown";
  try {
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    return "unknown"; // no socket: an in-process request (tests)
  }
}
