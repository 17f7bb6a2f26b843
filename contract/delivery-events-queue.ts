/**
 * The queue that carries delivery events to the exchange's backend: its name, its
 * jobs' shape and options. Gateway and worker both publish to it; only the worker delivers.
 */
import type { JobsOptions } from "bullmq";
import type { DeliveryEvent } from "./delivery-events.js";

/** Beside `notifications`, under the same prefix (so under the same Redis Cluster hash tag). */
export const DELIVERY_EVENTS_QUEUE = "notification-events";

/** The custom BullMQ backoff the delivering worker registers (its retry schedule). */
export const EVENT_BACKOFF_TYPE = "event-schedule";

/**
 * A ceiling, never reached: the worker's backoff strategy ends the retries when its schedule
 * (EVENTS_RETRY_SCHEDULE_MS) runs out, so the schedule is configured in one process only.
 */
export const EVENT_JOB_MAX_ATTEMPTS = 100;

/** One event on its way to the backend. */
export interface DeliveryEventJob {
  event: DeliveryEvent;
}

/** Options of every event job; `jobId` keeps the same delivery from being queued twice. */
export function deliveryEventJobOptions(jobId: string, retentionSeconds: number): JobsOptions {
  return {
    jobId,
    attempts: EVENT_JOB_MAX_ATTEMPTS,
    backoff: { type: EVENT_BACKOFF_TYPE },
    // Delivered jobs are not needed once delivered: the event log keeps the events for replay.
    removeOnComplete: { age: 3600, count: 1000 },
    // Undelivered ones stay as long as the events are kept, for an operator to look at.
    removeOnFail: { age: retentionSeconds },
  };
}
