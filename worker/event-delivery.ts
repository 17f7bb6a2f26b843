import { type Job, Worker } from "bullmq";
import { Counter, type Registry } from "prom-client";
import { Webhook } from "standardwebhooks";
import {
  DELIVERY_EVENTS_QUEUE,
  type DeliveryEventJob,
  EVENT_BACKOFF_TYPE,
} from "../contract/delivery-events-queue.js";
import type { Logger } from "../lib/logger.js";
import type { RedisConnection } from "../lib/redis.js";
import type { JobsInFlight } from "./jobs-in-flight.js";

/** Settings of the worker that POSTs events to the exchange's backend; index.ts reads them from env. */
export interface EventDeliveryOptions {
  connection: RedisConnection;
  prefix: string;
  /** EVENTS_WEBHOOK_URL. */
  url: string;
  /** EVENTS_WEBHOOK_SECRET (`whsec_…`). */
  secret: string;
  /** Waits between tries after the first (EVENTS_RETRY_SCHEDULE_MS); then the event is given up. */
  retryScheduleMs: readonly number[];
  timeoutMs: number;
  concurrency: number;
  stalledIntervalMs: number;
  drainDelaySeconds: number;
  logger: Logger;
  /** The worker's metrics registry: `notification_events_total` is counted there when given. */
  registry?: Registry;
  /** Overrides the queue name; tests use a private one. */
  queueName?: string;
  /** Counts the POSTs under way, for the shutdown to know what is in flight. */
  inFlight?: JobsInFlight;
}

/** A try the backend did not accept; BullMQ retries it on the schedule. */
export class EventDeliveryError extends Error {
  override name = "EventDeliveryError";
}

/** The wait before the next try, after `attemptsMade` tries failed; -1 (no retry) past the schedule. */
export function eventRetryDelay(retryScheduleMs: readonly number[], attemptsMade: number): number {
  return retryScheduleMs[attemptsMade - 1] ?? -1;
}

/**
 * POSTs one event, signed per Standard Webhooks: `webhook-id` is the event's id (the same in
 * every try and replay, for the backend to deduplicate), `webhook-timestamp` this try's time.
 * Only a 2xx delivers it; a 3xx is not followed (Svix counts it a failure, and a redirect could
 * take the signed body elsewhere).
 */
export async function postEvent(
  job: Job<DeliveryEventJob>,
  options: Pick<EventDeliveryOptions, "url" | "timeoutMs">,
  webhook: Webhook,
): Promise<number> {
  const { event } = job.data;
  const body = JSON.stringify(event);
  const now = new Date();
  const response = await fetch(options.url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "webhook-id": event.id,
      "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
      "webhook-signature": webhook.sign(event.id, now, body),
    },
    body,
    redirect: "manual",
    signal: AbortSignal.timeout(options.timeoutMs),
  }).catch((error: unknown) => {
    const reason = error instanceof Error && error.name === "TimeoutError" ? "timed out" : "failed";
    throw new EventDeliveryError(`POST ${reason}: ${(error as Error).cause ?? error}`);
  });
  await response.body?.cancel();
  if (response.status < 200 || response.status > 299) {
    throw new EventDeliveryError(`backend answered ${response.status}`);
  }
  return response.status;
}

/**
 * Starts the BullMQ worker that delivers events, apart from the notifications' worker: its own
 * concurrency and locks, so a slow or dead backend holds up only events.
 */
export function createEventDeliveryWorker(options: EventDeliveryOptions): Worker<DeliveryEventJob> {
  const { logger } = options;
  const webhook = new Webhook(options.secret);
  const worker = new Worker<DeliveryEventJob>(
    options.queueName ?? DELIVERY_EVENTS_QUEUE,
    (job) =>
      options.inFlight
        ? options.inFlight.run(() => postEvent(job, options, webhook))
        : postEvent(job, options, webhook),
    {
      connection: options.connection,
      prefix: options.prefix,
      concurrency: options.concurrency,
      // A try lasts at most the timeout: the lock outlives it, so a slow backend is not a stall.
      lockDuration: Math.max(30_000, options.timeoutMs * 2),
      stalledInterval: options.stalledIntervalMs,
      // A worker death during a POST leaves the job stalled; delivering it again is harmless
      // (the backend deduplicates by webhook-id), losing it is not.
      maxStalledCount: 5,
      drainDelay: options.drainDelaySeconds,
      settings: {
        backoffStrategy: (attemptsMade, type) =>
          type === EVENT_BACKOFF_TYPE ? eventRetryDelay(options.retryScheduleMs, attemptsMade) : -1,
      },
    },
  );
  const tries = options.registry
    ? new Counter({
        name: "notification_events_total",
        help: "Tries to POST an event to the backend by outcome (delivered, retrying, given_up: no try left)",
        labelNames: ["outcome"],
        registers: [options.registry],
      })
    : undefined;
  worker.on("completed", (job) => {
    tries?.inc({ outcome: "delivered" });
    const { event } = job.data;
    logger.info(
      { eventId: event.id, type: event.type, attempt: job.attemptsMade },
      "event delivered",
    );
  });
  worker.on("failed", (job, err) => {
    const final = !job || Boolean(job.finishedOn);
    tries?.inc({ outcome: final ? "given_up" : "retrying" });
    logger[final ? "error" : "warn"](
      { eventId: job?.data.event.id, attempt: job?.attemptsMade, final, reason: err.message },
      final ? "event given up; a replay can send it again" : "event not delivered, will retry",
    );
  });
  worker.on("error", (err) => logger.error({ err }, "event worker error"));
  return worker;
}
