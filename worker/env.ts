import { z } from "zod";
import { checkProviderEnv, providerEnvFields } from "../channels/registry.js";
import {
  eventsDeliveryEnvFields,
  eventsEnvFields,
  requireEventsSecret,
} from "../delivery/events/env.js";
import { requireClusterHashTag, sharedEnvFields } from "../lib/env.js";
import { messageEnvFields } from "../rendering/message-env.js";

const positiveInt = z.coerce.number().int().positive();

/** The worker's whole configuration; parsed once at start. */
export const workerEnvSchema = z
  .object({
    ...sharedEnvFields,

    ...providerEnvFields,
    PROVIDER_TIMEOUT_MS: positiveInt.default(10_000),
    /** How long a provider's channel waits after its 429 names no usable Retry-After. */
    PROVIDER_RATE_LIMIT_WAIT_MS: positiveInt.default(1000),
    /** How long a provider's channel waits after it refused our credentials or sender. */
    PROVIDER_MISCONFIGURED_WAIT_MS: positiveInt.default(60_000),
    /** How long a provider's channel waits after a quota error that names no Retry-After. */
    PROVIDER_QUOTA_WAIT_MS: positiveInt.default(3_600_000),

    /**
     * Jobs one worker runs at once. A batch can only hold jobs the worker holds, so the default
     * holds two full Resend batches: one on the wire, one collecting (docs/configuration.md).
     */
    WORKER_CONCURRENCY: positiveInt.default(200),
    /** Jobs per second across replicas; 0: none beyond the providers' own limits. */
    RATE_LIMIT_PER_SECOND: z.coerce.number().int().min(0).default(0),
    WORKER_LOCK_DURATION_MS: positiveInt.default(30_000),
    // BullMQ finds a dead worker's job at the check after the one that saw it active: up to two
    // intervals. Kept at the lock's 30 s, a crashed worker's jobs are back within lock + interval.
    WORKER_STALLED_INTERVAL_MS: positiveInt.default(30_000),
    /** An idle worker's blocking wait; a new job wakes it at once, so longer only saves commands. */
    WORKER_DRAIN_DELAY_SECONDS: positiveInt.default(60),
    /** How long SIGTERM waits for in-flight sends before giving up (deploy kill timeouts exceed it). */
    WORKER_SHUTDOWN_TIMEOUT_MS: positiveInt.default(30_000),
    /** /healthz and /metrics; 0 picks a free port (tests). */
    WORKER_HEALTH_PORT: z.coerce.number().int().min(0).max(65535).default(9091),
    /** Interface of the health port: all by default, so the platform's checker reaches it. */
    WORKER_HEALTH_HOST: z.string().default("0.0.0.0"),

    // Digests of partial fills (docs/digests.md): per channel on/off and timing, for fills only.
    /** SMS of fills go out as one digest per order (on) or one per fill (off). */
    DIGEST_SMS: z.stringbool().default(true),
    /** A digest goes once no fill came for this long… */
    DIGEST_SMS_WINDOW_MS: positiveInt.default(30_000),
    /** …or this long after its first fill at the latest. */
    DIGEST_SMS_MAX_WAIT_MS: positiveInt.default(300_000),
    /** Emails of fills: one per fill unless on. */
    DIGEST_EMAIL: z.stringbool().default(false),
    DIGEST_EMAIL_WINDOW_MS: positiveInt.default(30_000),
    DIGEST_EMAIL_MAX_WAIT_MS: positiveInt.default(300_000),
    /** A digest goes once it holds this many fills. */
    DIGEST_MAX_FILLS: positiveInt.max(10_000).default(100),
    /** How long after an order's final fill its digest goes: fills still in flight join it. */
    DIGEST_FINAL_DELAY_MS: z.coerce.number().int().min(0).max(1000).default(200),

    DEV_OUTBOX_DIR: z.string().default(".dev/outbox"),

    ...messageEnvFields,
    ...eventsEnvFields,
    ...eventsDeliveryEnvFields,
  })
  .superRefine((env, ctx) => {
    requireClusterHashTag(env, ctx);
    requireEventsSecret(env, ctx);
    checkProviderEnv(env, env.NODE_ENV === "production", (name, why) => {
      if (env[name as keyof typeof env] === undefined) {
        ctx.addIssue({ code: "custom", path: [name], message: why });
      }
    });
  });

export type WorkerEnv = z.output<typeof workerEnvSchema>;
