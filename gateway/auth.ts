import { createHash, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import type { GatewayEnv } from "./app-types.js";
import { ApiError } from "./errors.js";

function sha256(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}

/** A stable, non-secret name for an API key: scopes idempotency keys and rate limits per caller. */
export function apiKeyId(key: string): string {
  return sha256(key).toString("hex").slice(0, 16);
}

/**
 * Accepts `Authorization: Bearer <key>` when the key is one of `apiKeys`.
 * Candidates are hashed first so every comparison is between equal-length digests, and every
 * accepted key is compared (no early exit), so the time taken does not tell how close a guess was.
 * Several keys are accepted at once so a key can be rotated without downtime.
 */
export function requireApiKey(apiKeys: readonly string[]): MiddlewareHandler<GatewayEnv> {
  const digests = apiKeys.map(sha256);
  return async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer (.+)$/.exec(header);
    const candidate = sha256(match?.[1] ?? "");
    let accepted: Buffer | undefined;
    for (const digest of digests) {
      if (timingSafeEqual(candidate, digest)) accepted = digest;
    }
    if (!match || !accepted) {
      throw new ApiError("UNAUTHORIZED", "Missing or invalid API key", {
        "WWW-Authenticate": 'Bearer realm="notifications"',
      });
    }
    c.set("apiKeyId", accepted.toString("hex").slice(0, 16)); // the same as apiKeyId(key)
    await next();
  };
}
