import { z } from "zod";
import { DEFAULT_QUEUE_PREFIX } from "../contract/notification-job.js";
import {
  commaListSchema,
  logLevelSchema,
  nodeEnvSchema,
  redisClusterSchema,
  redisUrlSchema,
  requireClusterHashTag,
} from "../lib/env.js";

/** The gateway's whole configuration; parsed once at start. */
export const gatewayEnvSchema = z
  .object({
    NODE_ENV: nodeEnvSchema,
    PORT: z.coerce.number().int().min(1).max(65535).default(3000),
    HOST: z.string().default("0.0.0.0"),
    REDIS_URL: redisUrlSchema,
    REDIS_CLUSTER: redisClusterSchema,
    QUEUE_PREFIX: z.string().min(1).default(DEFAULT_QUEUE_PREFIX),
    API_KEYS: commaListSchema.pipe(
      z
        .array(z.string().min(16, "each key must be at least 16 characters"))
        .min(1, "set at least one key"),
    ),
    JOB_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(4),
    JOB_BACKOFF_DELAY_MS: z.coerce.number().int().min(1).default(2000),
    LOG_LEVEL: logLevelSchema,
    /** Bull Board's login at /admin/queues; the dashboard is off unless both are set. */
    ADMIN_USER: z.string().min(1).optional(),
    ADMIN_PASSWORD: z.string().min(12, "must be at least 12 characters").optional(),
  })
  .superRefine((env, ctx) => {
    if ((env.ADMIN_USER === undefined) !== (env.ADMIN_PASSWORD === undefined)) {
      ctx.addIssue({
        code: "custom",
        path: ["ADMIN_PASSWORD"],
        message: "set both ADMIN_USER and ADMIN_PASSWORD, or neither",
      });
    }
    requireClusterHashTag(env, ctx);
  });

export type GatewayEnv = z.output<typeof gatewayEnvSchema>;
