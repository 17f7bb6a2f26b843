import { z } from "zod";
import {
  eventsEnvFields,
  eventsReplayEnvFields,
  requireEventsSecret,
} from "../delivery/events/env.js";
import {
  commaListSchema,
  publicUrlSchema,
  requireClusterHashTag,
  sharedEnvFields,
} from "../lib/env.js";
import { messageEnvFields } from "../rendering/message-env.js";
import { weakDigestReason } from "./api-keys.js";
import { weakSecrets } from "./secret-strength.js";

/** Provider webhook requests per client address and minute; 0: no limit. */
const webhookRateLimitSchema = z.coerce.number().int().min(0).default(6000);
/** Its default, for a gateway built without an environment (tests): the schema decides it. */
export const DEFAULT_WEBHOOK_RATE_LIMIT_PER_MINUTE = webhookRateLimitSchema.parse(undefined);

/** Scheduled (not yet due) notifications one API key may hold; past it a POST is refused (429). */
const maxScheduledSchema = z.coerce.number().int().min(1).default(10_000);
/** Its default, for a gateway built without an environment (tests): the schema decides it. */
export const DEFAULT_MAX_SCHEDULED_PER_KEY = maxScheduledSchema.parse(undefined);

/** The gateway's whole configuration; parsed once at start. */
export const gatewayEnvSchema = z
  .object({
    ...sharedEnvFields,
    PORT: z.coerce.number().int().min(1).max(65535).default(3000),
    HOST: z.string().default("0.0.0.0"),
    /** /metrics is served here, apart from the public port (fly.toml's [[metrics]] scrapes it). */
    METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9090),
    METRICS_HOST: z.string().default("0.0.0.0"),
    /**
     * Accepted keys, comma-separated; `admin:<key>` for a key that sees every notification.
     * API_KEY_HASHES can stand in for (or add to) them.
     */
    API_KEYS: commaListSchema
      .pipe(
        z.array(
          z
            .string()
            .refine(
              (entry) => entry.replace(/^admin:/, "").length >= 16,
              "each key must be at least 16 characters",
            ),
        ),
      )
      .default([]),
    /** Accepted keys as SHA-256 hex digests (`admin:<hex>` for admin scope), so plaintext keys need not live in the environment. */
    API_KEY_HASHES: commaListSchema
      .pipe(
        z.array(
          z
            .string()
            .regex(
              /^(admin:)?[0-9a-f]{64}$/i,
              "each must be a SHA-256 hex digest (64 hex digits), optionally after admin:",
            ),
        ),
      )
      .default([]),
    /** Requests per API key and minute, across replicas; 0 turns the limit off. */
    API_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(1200),
    /**
     * Scheduled notifications one key may hold: each is a job kept in Redis until its send time,
     * up to 30 days, so the cap bounds the memory one key can take.
     */
    MAX_SCHEDULED_PER_KEY: maxScheduledSchema,
    /** Failed authentications per client and minute before it gets 429 for the rest of the minute. */
    AUTH_FAILURES_PER_MINUTE: z.coerce.number().int().min(1).default(20),
    /** A header the platform's proxy sets to the client's address (Fly.io: Fly-Client-IP). */
    CLIENT_IP_HEADER: z.string().optional(),
    /**
     * How many proxies append to CLIENT_IP_HEADER: the client is that many entries from its
     * right end (1 for Fly-Client-IP, or an X-Forwarded-For written by one load balancer).
     */
    TRUSTED_PROXY_HOPS: z.coerce.number().int().min(1).max(10).default(1),
    /** A request (a slow client trickling its body) is cut off after this long. */
    REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
    /** How long SIGTERM waits for in-flight requests before the gateway exits anyway. */
    SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
    /** Bull Board's login at /admin/queues; the dashboard is off unless both are set. */
    ADMIN_USER: z.string().min(1).optional(),
    ADMIN_PASSWORD: z.string().min(12, "must be at least 12 characters").optional(),
    /** The dashboard shows queues and jobs but offers no action (retry, remove, add, pause). */
    ADMIN_READ_ONLY: z.stringbool().default(false),
    /** The worker's message settings, read here for the admin previews (GET /admin/previews). */
    ...messageEnvFields,
    /** Events to the exchange's backend: the provider webhooks publish them, replay re-sends them. */
    ...eventsEnvFields,
    ...eventsReplayEnvFields,
    /**
     * The gateway's public base URL, as providers reach it (https://notify.example.com): Twilio
     * signs the URL it posts to, which behind Fly's or Railway's proxy is not the one Node sees.
     */
    PUBLIC_URL: publicUrlSchema.optional(),
    /** The Resend webhook's signing secret (`whsec_…`); unset, POST /webhooks/resend is off (404). */
    RESEND_WEBHOOK_SECRET: z.string().startsWith("whsec_", "must start with whsec_").optional(),
    /**
     * Twilio's auth token, which signs its webhooks; with PUBLIC_URL it turns /webhooks/twilio on.
     * Alone it turns nothing on: platforms give every process the worker's secrets.
     */
    TWILIO_AUTH_TOKEN: z.string().min(1).optional(),
    /** Webhook requests per client address and minute, across replicas; 0 turns the limit off. */
    WEBHOOK_RATE_LIMIT_PER_MINUTE: webhookRateLimitSchema,
  })
  .superRefine((env, ctx) => {
    if (env.NODE_ENV === "production") refuseWeakSecrets(env, ctx);
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
    requireEventsSecret(env, ctx);
  });

export type GatewayEnv = z.output<typeof gatewayEnvSchema>;

/**
 * Production refuses API keys and an admin password that a strength estimator rates weak
 * (secret-strength.ts), and digests of well-known keys. A digest cannot show its key's strength:
 * API_KEY_HASHES must hash keys generated the same way (docs/security.md).
 */
function refuseWeakSecrets(
  env: { API_KEYS: string[]; API_KEY_HASHES: string[]; ADMIN_PASSWORD?: string },
  ctx: z.RefinementCtx,
): void {
  for (const { path, message } of weakSecrets(env)) {
    ctx.addIssue({ code: "custom", path, message });
  }
  env.API_KEY_HASHES.forEach((entry, index) => {
    const reason = weakDigestReason(entry);
    if (reason) ctx.addIssue({ code: "custom", path: ["API_KEY_HASHES", index], message: reason });
  });
}
