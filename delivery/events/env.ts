import { z } from "zod";
import { commaListSchema } from "../../lib/env.js";

/** Standard Webhooks secrets are 24 to 64 random bytes (the spec's recommendation). */
const SECRET_BYTES = { min: 24, max: 64 };

/** `whsec_` and the key in base64, as Svix and Standard Webhooks write it. */
export const webhookSecretSchema = z.string().refine((value) => {
  const match = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(value);
  if (!match?.[1] || match[1].length % 4 !== 0) return false;
  const bytes = Buffer.from(match[1], "base64").length;
  return bytes >= SECRET_BYTES.min && bytes <= SECRET_BYTES.max;
}, `must be whsec_ followed by a base64 key of ${SECRET_BYTES.min} to ${SECRET_BYTES.max} bytes (openssl rand -base64 32)`);

/** Svix's schedule after the first, immediate try: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. */
const SVIX_RETRY_SCHEDULE_MS = [
  5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
];

/** Events to the exchange's backend, read by gateway and worker (both publish). */
export const eventsEnvFields = {
  /** Where events are POSTed; unset: no events are kept or sent. */
  EVENTS_WEBHOOK_URL: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional(),
  /** Signs them (Standard Webhooks); required with EVENTS_WEBHOOK_URL. */
  EVENTS_WEBHOOK_SECRET: webhookSecretSchema.optional(),
  /** How long published events are kept for a replay. */
  EVENTS_RETENTION_DAYS: z.coerce.number().int().min(1).max(365).default(30),
};

/** Replays queue at most this many events an hour across the deployment; only the gateway replays. */
const replayLimitSchema = z.coerce.number().int().min(1).default(10_000);

/** The replay variables, read by the gateway. */
export const eventsReplayEnvFields = {
  /**
   * Events `POST /events/replay` may queue per hour, all replays and gateway replicas together:
   * by default one full-size replay (10,000 events) an hour.
   */
  EVENTS_REPLAY_LIMIT_PER_HOUR: replayLimitSchema,
};

/** Its default, for a publisher built without an environment (the worker, tests). */
export const DEFAULT_REPLAY_LIMIT_PER_HOUR = replayLimitSchema.parse(undefined);

/** Only the worker delivers events: these shape its deliveries. */
export const eventsDeliveryEnvFields = {
  /** Waits between tries after the first (ms); when it runs out the event is given up. */
  EVENTS_RETRY_SCHEDULE_MS: commaListSchema
    .pipe(z.array(z.coerce.number<string>().int().min(0)).min(1).max(50))
    .default(SVIX_RETRY_SCHEDULE_MS),
  /** A backend that has not answered after this long counts as a failed try (Svix: 15 s). */
  EVENTS_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().positive().default(15_000),
  /** Deliveries in flight at once, apart from the notifications' own concurrency. */
  EVENTS_CONCURRENCY: z.coerce.number().int().positive().default(10),
};

/** EVENTS_WEBHOOK_URL and EVENTS_WEBHOOK_SECRET come together; adds the issue to `ctx` otherwise. */
export function requireEventsSecret(
  env: { EVENTS_WEBHOOK_URL?: string; EVENTS_WEBHOOK_SECRET?: string },
  ctx: z.RefinementCtx,
): void {
  if (env.EVENTS_WEBHOOK_URL !== undefined && env.EVENTS_WEBHOOK_SECRET === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["EVENTS_WEBHOOK_SECRET"],
      message: "is required with EVENTS_WEBHOOK_URL",
    });
  }
  if (env.EVENTS_WEBHOOK_URL === undefined && env.EVENTS_WEBHOOK_SECRET !== undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["EVENTS_WEBHOOK_URL"],
      message: "is required with EVENTS_WEBHOOK_SECRET",
    });
  }
}
