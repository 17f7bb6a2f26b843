import { z } from "zod";
import {
  DEFAULT_QUEUE_PREFIX,
  type NotificationJobSettings,
} from "../contract/notification-job.js";

/** Thrown when the environment does not satisfy a process's schema; the message names every bad variable. */
export class EnvError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid environment:\n${issues.map((issue) => `  - ${issue}`).join("\n")}`);
    this.name = "EnvError";
  }
}

/**
 * Parses `source` with `schema` once and freezes the result.
 * Empty strings count as unset, because `.env` files often carry `NAME=` for optional values.
 */
export function parseEnv<T extends z.ZodType>(
  schema: T,
  source: NodeJS.ProcessEnv = process.env,
): Readonly<z.output<T>> {
  const withoutEmpty = Object.fromEntries(
    Object.entries(source).filter(([, value]) => value !== undefined && value !== ""),
  );
  const result = schema.safeParse(withoutEmpty);
  if (!result.success) {
    throw new EnvError(
      result.error.issues.map(
        (issue) => `${issue.path.join(".") || "(environment)"}: ${issue.message}`,
      ),
    );
  }
  return Object.freeze(result.data);
}

/** Parses the environment at process start; on failure prints every bad variable and exits 1. */
export function loadEnvOrExit<T extends z.ZodType>(schema: T): Readonly<z.output<T>> {
  try {
    return parseEnv(schema);
  } catch (error) {
    if (error instanceof EnvError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}

/** `redis://` or `rediss://` URL. */
export const redisUrlSchema = z
  .string()
  .refine((value) => /^rediss?:\/\/./.test(value), "must be a redis:// or rediss:// URL");

/** `REDIS_CLUSTER=true` when REDIS_URL names a node of a Redis Cluster. */
export const redisClusterSchema = z.stringbool().default(false);

/**
 * BullMQ on a Redis Cluster needs every key of a queue in one slot: the prefix must carry a
 * hash tag such as `{notifications}`. Adds the issue to `ctx` when it does not.
 */
export function requireClusterHashTag(
  env: { REDIS_CLUSTER: boolean; QUEUE_PREFIX: string },
  ctx: z.RefinementCtx,
): void {
  if (env.REDIS_CLUSTER && !/\{[^}]+\}/.test(env.QUEUE_PREFIX)) {
    ctx.addIssue({
      code: "custom",
      path: ["QUEUE_PREFIX"],
      message: "must contain a hash tag such as {notifications} when REDIS_CLUSTER=true",
    });
  }
}

export const nodeEnvSchema = z.enum(["development", "production", "test"]).default("development");

export const logLevelSchema = z
  .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
  .default("info");

/** Comma-separated list, trimmed, empty items dropped. */
export const commaListSchema = z.string().transform((value) =>
  value
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item.length > 0),
);

/** Tries in all (the first included) and first backoff of every notification job. */
const jobSettingsFields = {
  /** 4 tries are the seed's 3 retries; exponential backoff doubles the delay: 2 s, 4 s, 8 s. */
  JOB_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(4),
  JOB_BACKOFF_DELAY_MS: z.coerce.number().int().min(1).default(2000),
};

/**
 * The fields gateway and worker both read, declared once. The worker needs the job settings
 * too: it applies them to jobs that existing backends add without options.
 */
export const sharedEnvFields = {
  NODE_ENV: nodeEnvSchema,
  LOG_LEVEL: logLevelSchema,
  REDIS_URL: redisUrlSchema,
  REDIS_CLUSTER: redisClusterSchema,
  QUEUE_PREFIX: z.string().min(1).default(DEFAULT_QUEUE_PREFIX),
  /**
   * How long a notification's delivery status and timeline are kept (delivery/delivery-store.ts),
   * counted from its last event; `GET /notifications/{id}` answers from it once the job is gone.
   */
  DELIVERY_STATUS_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  ...jobSettingsFields,
};

/** DELIVERY_STATUS_RETENTION_DAYS in seconds. */
export function deliveryRetentionSeconds(env: { DELIVERY_STATUS_RETENTION_DAYS: number }): number {
  return env.DELIVERY_STATUS_RETENTION_DAYS * 24 * 60 * 60;
}

/** The retention when nothing is configured: derived from the schema, where the default lives. */
export const DEFAULT_DELIVERY_RETENTION_SECONDS = deliveryRetentionSeconds({
  DELIVERY_STATUS_RETENTION_DAYS: sharedEnvFields.DELIVERY_STATUS_RETENTION_DAYS.parse(undefined),
});

/** The public base URL (PUBLIC_URL): an http(s) URL, kept without a trailing slash. */
export const publicUrlSchema = z
  .url({ protocol: /^https?$/ })
  .transform((value) => value.replace(/\/+$/, ""));

/** The job settings of a parsed environment. */
export function jobSettingsOf(env: {
  JOB_ATTEMPTS: number;
  JOB_BACKOFF_DELAY_MS: number;
}): NotificationJobSettings {
  return { attempts: env.JOB_ATTEMPTS, backoffDelayMs: env.JOB_BACKOFF_DELAY_MS };
}

/** The job settings when nothing is configured: derived from the schema, where the defaults live. */
export const DEFAULT_JOB_SETTINGS: NotificationJobSettings = jobSettingsOf(
  z.object(jobSettingsFields).parse({}),
);
