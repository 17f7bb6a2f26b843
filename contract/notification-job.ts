/**
 * The job contract between the gateway (producer) and the worker (consumer), and with any
 * backend that still adds BullMQ jobs directly. Nothing else is shared between the two sides.
 */
import type { JobsOptions } from "bullmq";
import { z } from "zod";
import { boundedCache } from "./bounded-cache.js";
import { hasRecipient, recipientFields } from "./channels.js";
import { assetCode, orderId } from "./customer-text.js";
import { nonNegativeDecimal, positiveDecimal } from "./decimal.js";
import { digestOverrideSchema } from "./digest.js";

/** The BullMQ queue name; existing producers add to it directly, so it never changes. */
export const NOTIFICATION_QUEUE = "notifications";

/** BullMQ's own default key prefix, kept so existing producers and this service share keys. */
export const DEFAULT_QUEUE_PREFIX = "bull";

/**
 * Job name of the seed payload. The gateway names each job after its notification type; the
 * worker goes by the payload's `type`, so existing producers can keep their own job names.
 */
export const TRADE_EXECUTED_JOB = "trade.executed";

/** Kinds of notification; each has its own email and SMS template in rendering/. */
export const NOTIFICATION_TYPES = [
  "trade.executed",
  "order.cancelled",
  "deposit.received",
  "withdrawal.sent",
] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

/**
 * Verdicts on locale tags and time zones, remembered: ICU takes about 10 µs to check a tag and
 * about 90 µs to build the formatter that checks a zone, on every request that names one, while
 * an exchange's customers use a few dozen of each.
 */
const languageTagVerdicts = boundedCache<boolean>(1000);
const timeZoneVerdicts = boundedCache<boolean>(1000);

function isLanguageTag(tag: string): boolean {
  return languageTagVerdicts(tag, () => {
    try {
      return Intl.getCanonicalLocales(tag).length === 1;
    } catch {
      return false;
    }
  });
}

function isTimeZone(zone: string): boolean {
  return timeZoneVerdicts(zone, () => {
    try {
      new Intl.DateTimeFormat("en", { timeZone: zone });
      return true;
    } catch {
      return false;
    }
  });
}

const notificationFields = {
  type: z
    .enum(NOTIFICATION_TYPES)
    .default("trade.executed")
    .describe("What happened; trade.executed when omitted (the payload existing backends send)."),
  ...recipientFields,
  asset: assetCode.describe(
    "Traded asset: ASCII letters and digits in groups joined by one . _ or -, for example BTC, USDC.e or BTC-PERP.",
  ),
  amount: positiveDecimal.describe(
    'Value in `currency` (of the trade, deposit or withdrawal): a decimal string such as "1500.25" (exact) or a JSON number.',
  ),
  quantity: positiveDecimal.describe(
    'Quantity of `asset`: a decimal string such as "0.00000001" (exact) or a JSON number.',
  ),
  price: positiveDecimal
    .optional()
    .describe("Price of one unit of `asset` in `currency`, as a decimal string or number."),
  fee: nonNegativeDecimal.optional().describe("Fee charged, as a decimal string or number."),
  feeAsset: assetCode.optional().describe("Asset or currency of `fee`; `currency` when omitted."),
  executedAt: z.iso
    .datetime({ offset: true })
    .optional()
    .describe("When the trade, deposit or withdrawal happened (ISO 8601), not when it is sent."),
  locale: z
    .string()
    .max(35)
    .refine(isLanguageTag, "must be a BCP 47 language tag, for example en, pt-BR or zh-Hans")
    .optional()
    .describe("The customer's language (BCP 47); the deployment's default when omitted."),
  timeZone: z
    .string()
    .max(64)
    .refine(isTimeZone, "must be an IANA time zone, for example Europe/Paris")
    .optional()
    .describe("The customer's time zone (IANA) for dates; the deployment's default when omitted."),
  order: orderId.describe(
    "The exchange's order id, or the deposit's or withdrawal's reference: ASCII letters, digits and . _ -, a letter or digit at each end; never a link or an email address.",
  ),
  fill: z
    .strictObject({
      id: orderId.describe("The fill's own id, unique within its order; the alphabet of `order`."),
      final: z
        .boolean()
        .describe("True when the order is now completely filled or cancelled: no fill follows."),
    })
    .optional()
    .describe("For trade.executed: this notification is one fill of `order` (see digests)."),
  digest: digestOverrideSchema.optional(),
  side: z.enum(["buy", "sell"]).optional().describe("Whether the user bought or sold."),
  currency: z
    .string()
    .regex(/^[A-Z]{3,5}$/, "must be 3-5 capital letters, for example USD or USDT")
    .default("USD")
    .describe("Currency of `amount`; USD when omitted."),
};

const recipientNames = Object.keys(recipientFields);
const atLeastOneRecipient = {
  message: `at least one of ${recipientNames.join(" or ")} is required`,
  path: [recipientNames[0] ?? "to"],
};

/**
 * A notification payload as the worker accepts it from the queue. Unknown fields are ignored
 * (stripped), so an older or newer producer that adds a field does not break delivery.
 */
export const notificationPayloadSchema = z
  .object(notificationFields)
  .refine(hasRecipient, atLeastOneRecipient);

function isDate(value: string | undefined): value is string {
  return value !== undefined && !Number.isNaN(Date.parse(value));
}

/** How far ahead a notification can be scheduled. */
export const MAX_SCHEDULE_DAYS = 30;

/** Delivery options of an HTTP request; they shape the job, they are not part of its data. */
const deliveryFields = {
  priority: z
    .enum(["high", "normal", "low"])
    .default("normal")
    .describe("high overtakes normal and low notifications waiting in the queue."),
  sendAt: z.iso
    .datetime({ offset: true })
    .optional()
    .describe(
      `When to send (ISO 8601, at most ${MAX_SCHEDULE_DAYS} days ahead); now when omitted.`,
    ),
};

/**
 * The payload plus delivery options, as the HTTP API accepts them: unknown fields are rejected,
 * so a typo such as `phnoe` is a 400 instead of a silently missing SMS.
 */
export const notificationRequestSchema = z
  .strictObject({ ...notificationFields, ...deliveryFields })
  .refine(hasRecipient, atLeastOneRecipient)
  .refine((request) => request.digest === undefined || request.fill !== undefined, {
    message: "applies to fills only: give `fill` too",
    path: ["digest"],
  })
  .refine(
    // An unparseable sendAt already has its format error; these two judge real dates only.
    (request) => !isDate(request.sendAt) || Date.parse(request.sendAt) > Date.now() - 60_000,
    {
      message: "must not be in the past",
      path: ["sendAt"],
    },
  )
  .refine(
    (request) =>
      !isDate(request.sendAt) ||
      Date.parse(request.sendAt) <= Date.now() + MAX_SCHEDULE_DAYS * 24 * 60 * 60 * 1000,
    { message: `must be at most ${MAX_SCHEDULE_DAYS} days ahead`, path: ["sendAt"] },
  );

/** A validated HTTP request. */
export type NotificationRequest = z.output<typeof notificationRequestSchema>;

/**
 * BullMQ options for each priority. BullMQ runs jobs without a priority before prioritized ones,
 * so: `high` goes to the front of the wait list (LIFO), `normal` to its back (FIFO, like jobs
 * existing producers add), `low` to the prioritized set, taken only when nothing else waits.
 * Normal notifications thus stay in the `waiting` state that queue-depth metrics count.
 */
export function priorityOptions(priority: "high" | "normal" | "low"): JobsOptions {
  if (priority === "high") return { lifo: true };
  if (priority === "low") return { priority: 10 };
  return {};
}

/** A validated notification, as carried in a job's data. */
export type NotificationPayload = z.output<typeof notificationPayloadSchema>;

/** The payload before defaults are applied: what a producer writes. */
export type NotificationInput = z.input<typeof notificationPayloadSchema>;

/** Retry and retention settings for every notification job. */
export interface NotificationJobSettings {
  /** Tries in all, the first included: 4 gives the 3 retries of the existing service. */
  attempts: number;
  /** First backoff; BullMQ's exponential backoff doubles it: 2 s, 4 s, 8 s. */
  backoffDelayMs: number;
}

const DAY_SECONDS = 24 * 60 * 60;

/**
 * BullMQ job options for a notification. `attempts: 4` is deliberate: BullMQ counts the first
 * try as an attempt, so 3 retries after it need 4, and exponential backoff with `delay: 2000`
 * waits 2 s, 4 s and 8 s between them (`attempts: 3` would stop after 2 s and 4 s).
 * Finished jobs are trimmed so Redis does not grow without bound; failed ones stay a week so
 * an operator can inspect and retry them.
 */
export function notificationJobOptions(settings: NotificationJobSettings): JobsOptions {
  return {
    ...notificationRetryOptions(settings),
    removeOnComplete: { age: DAY_SECONDS, count: 10_000 },
    removeOnFail: { age: 7 * DAY_SECONDS, count: 50_000 },
  };
}

/**
 * The retry half of `notificationJobOptions`: what the gateway writes into each job. Retention
 * is the worker's (its `removeOnComplete`/`removeOnFail` apply to every job that sets none), so
 * the gateway's jobs do not carry it: a smaller job to pack and store at every request.
 */
export function notificationRetryOptions(settings: NotificationJobSettings): JobsOptions {
  return {
    attempts: settings.attempts,
    backoff: { type: "exponential", delay: settings.backoffDelayMs },
  };
}

/**
 * Existing backends add jobs with no options, which BullMQ runs once (`attempts` 0): one 503
 * would fail the notification for good. The worker gives such a job the same retries as the
 * gateway's jobs, before the processor runs; BullMQ decides on a retry from the job object it
 * holds (`Job.shouldRetryJob` reads `opts.attempts` and `opts.backoff`), so this takes effect
 * for the attempt under way, and is applied again at every attempt.
 */
export function applyRetryDefaults(
  opts: JobsOptions,
  settings: NotificationJobSettings,
): JobsOptions {
  if (opts.attempts !== undefined && opts.attempts > 0) return opts;
  const defaults = notificationJobOptions(settings);
  opts.attempts = defaults.attempts;
  opts.backoff = defaults.backoff;
  return opts;
}
