import { z } from "zod";
import { commaListSchema, requireClusterHashTag, sharedEnvFields } from "../lib/env.js";

/** The gateway's whole configuration; parsed once at start. */
export const gatewayEnvSchema = z
  .object({
    ...sharedEnvFields,
    PORT: z.coerce.number().int().min(1).max(65535).default(3000),
    HOST: z.string().default("0.0.0.0"),
    /** Accepted keys, comma-separated; API_KEY_HASHES can stand in for (or add to) them. */
    API_KEYS: commaListSchema
      .pipe(z.array(z.string().min(16, "each key must be at least 16 characters")))
      .default([]),
    /** Accepted keys as SHA-256 hex digests, so plaintext keys need not live in the environment. */
    API_KEY_HASHES: commaListSchema
      .pipe(
        z.array(
          z.string().regex(/^[0-9a-f]{64}$/i, "each must be a SHA-256 hex digest (64 hex digits)"),
        ),
      )
      .default([]),
    /** Requests per API key and minute, across replicas; 0 turns the limit off. */
    API_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(1200),
    /** Failed authentications per client and minute before it gets 429 for the rest of the minute. */
    AUTH_FAILURES_PER_MINUTE: z.coerce.number().int().min(1).default(20),
    /** A header the platform's proxy sets to the client's address (Fly.io: Fly-Client-IP). */
    CLIENT_IP_HEADER: z.string().optional(),
    /** A request (a slow client trickling its body) is cut off after this long. */
    REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
    /** How long SIGTERM waits for in-flight requests before the gateway exits anyway. */
    SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
    /** Bull Board's login at /admin/queues; the dashboard is off unless both are set. */
    ADMIN_USER: z.string().min(1).optional(),
    ADMIN_PASSWORD: z.string().min(12, "must be at least 12 characters").optional(),
    /** The dashboard shows queues and jobs but offers no action (retry, remove, add, pause). */
    ADMIN_READ_ONLY: z.stringbool().default(false),
  })
  .superRefine((env, ctx) => {
    if ((env.ADMIN_USER === undefined) !== (env.ADMIN_PASSWORD === undefined)) {
      ctx.addIssue({
        code: "custom",
        path: ["ADMIN_PASSWORD"],
        message: "set both ADMIN_USER and ADMIN_PASSWORD, or neither",
      });
    }
    if (env.API_KEYS.length === 0 && env.API_KEY_HASHES.length === 0) {
      ctx.addIssue({
        code: "custom",
        path: ["API_KEYS"],
        message: "set API_KEYS or API_KEY_HASHES",
      });
    }
    requireClusterHashTag(env, ctx);
  });

export type GatewayEnv = z.output<typeof gatewayEnvSchema>;
