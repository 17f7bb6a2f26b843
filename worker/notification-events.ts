/**
 * The events the worker reports to the exchange's backend: `notification.sent` once
 * a provider accepted a channel, `notification.failed` once a notification failed for good. Each
 * id is derived from the fact, so publishing it again (every later try repeats the sent
 * channels) delivers it once.
 */
import { DelayedError, type Job, type Worker } from "bullmq";
import { CHANNELS } from "../contract/channels.js";
import {
  type DeliveryEvent,
  type DeliveryEventSink,
  deliveryEventId,
} from "../contract/delivery-events.js";
import { type DeliveryReport, readDeliveryReport } from "../contract/delivery-report.js";
import type { Logger } from "../lib/logger.js";

/** The notification as the events name it. */
export interface NotificationRef {
  id: string;
  /**
   * The job's creation time, part of every id: job ids of direct producers restart at 1 when
   * Redis is reset, and a new notification "7" must not pass for a duplicate of the old one.
   */
  createdAt: number;
}

/** `notification.sent` for each channel a provider accepted. */
export function sentEvents(
  notification: NotificationRef,
  report: DeliveryReport,
  at: Date,
): DeliveryEvent[] {
  return CHANNELS.flatMap((channel) => {
    const state = report[channel];
    if (state.status !== "sent") return [];
    return [
      {
        id: deliveryEventId(
          "notification.sent",
          notification.id,
          String(notification.createdAt),
          channel,
        ),
        type: "notification.sent" as const,
        occurredAt: at.toISOString(),
        data: {
          notificationId: notification.id,
          channel,
          ...(state.providerId ? { providerId: state.providerId } : {}),
        },
      },
    ];
  });
}

/**
 * `notification.failed` for each channel that failed for good; one without a channel when the
 * notification failed before any channel did (an unreadable payload, a job that kept crashing
 * its worker), with `reason` from the job.
 */
export function failedEvents(
  notification: NotificationRef,
  report: DeliveryReport | undefined,
  reason: string,
  at: Date,
): DeliveryEvent[] {
  const failed = CHANNELS.filter((channel) => report?.[channel].status === "failed");
  const base = { type: "notification.failed" as const, occurredAt: at.toISOString() };
  const fact = [notification.id, String(notification.createdAt)];
  if (failed.length === 0) {
    return [
      {
        ...base,
        id: deliveryEventId("notification.failed", ...fact),
        data: { notificationId: notification.id, reason },
      },
    ];
  }
  return failed.map((channel) => {
    const error = report?.[channel].error;
    return {
      ...base,
      id: deliveryEventId("notification.failed", ...fact, channel),
      data: {
        notificationId: notification.id,
        channel,
        ...(error ? { code: error.code, reason: error.message } : {}),
      },
    };
  });
}

function refOf(job: Job): NotificationRef {
  return { id: String(job.id), createdAt: job.timestamp };
}

/**
 * Publishes each event; answers false when any publish failed (each failure is logged). Events
 * never fail a notification: the caller decides how the failed ones are tried again.
 */
async function publishAll(
  sink: DeliveryEventSink,
  events: DeliveryEvent[],
  logger: Logger,
): Promise<boolean> {
  const results = await Promise.allSettled(events.map((event) => sink.publish(event)));
  results.forEach((result, index) => {
    if (result.status === "fulfilled") return;
    const event = events[index];
    logger.error(
      { eventId: event?.id, type: event?.type, err: reasonOf(result.reason) },
      "event not published",
    );
  });
  return results.every((result) => result.status === "fulfilled");
}

/** The job's first backoff: how long a try waits before publishing its events again. */
function republishDelayMs(job: Job): number {
  const { backoff } = job.opts;
  const delay = typeof backoff === "number" ? backoff : backoff?.delay;
  // A producer may give attempts without a backoff: a second still keeps a dead Redis unhammered.
  return delay && delay > 0 ? delay : 1000;
}

/**
 * Sends the job back to the delayed set with `report` as its progress, so its next try finds
 * every channel settled, calls no provider, reaches the same verdict and publishes again. A
 * delay counts no attempt, so a notification whose channels went out is never failed for its
 * events. Should Redis refuse this too, the throw leaves the job to BullMQ's stalled check,
 * whose next try the adapters' dedup rules keep from sending twice.
 */
async function tryAgainToPublish(
  job: Job,
  token: string | undefined,
  report: DeliveryReport,
): Promise<never> {
  await job.updateProgress(report);
  await job.moveToDelayed(Date.now() + republishDelayMs(job), token);
  throw new DelayedError();
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The notification processor's signature. */
type Process = (job: Job, token: string | undefined) => Promise<DeliveryReport>;

/**
 * Wraps the processor so a try publishes what it established before BullMQ finishes the job:
 * a worker stopped or killed right after a completion loses no event (the job is not done until
 * they are in the events queue). Publishing is a few Redis commands, never a call to the
 * backend, so a slow or dead backend cannot hold a notification up.
 * - Completed: `notification.sent` per sent channel.
 * - Retry or provider wait (the processor wrote the report as progress): the channels sent so far.
 *   A failed publish is left to the next try, which publishes every sent channel again.
 * - Failed for good (the report is marked final): those, and `notification.failed` per failed one.
 * When a completed or finally failed try cannot publish, no later try is due: the job goes back
 * to the delayed set and tries again (tryAgainToPublish). Publishing the same fact again adds
 * nothing.
 */
export function withNotificationEvents(
  processJob: Process,
  sink: DeliveryEventSink,
  logger: Logger,
): Process {
  return async (job, token) => {
    let report: DeliveryReport;
    try {
      report = await processJob(job, token);
    } catch (error) {
      const progress = readDeliveryReport(job.progress);
      if (!progress) throw error;
      const now = new Date();
      const events = sentEvents(refOf(job), progress, now);
      if (progress.final) events.push(...failedEvents(refOf(job), progress, reasonOf(error), now));
      const published = await publishAll(sink, events, logger);
      // Without `final` the next try does not reopen the failed channels (an operator's retry
      // does): it finds them failed, fails the job again with the same reason, and publishes.
      if (!published && progress.final) {
        const { final: _final, ...unsettled } = progress;
        await tryAgainToPublish(job, token, unsettled);
      }
      throw error;
    }
    if (!(await publishAll(sink, sentEvents(refOf(job), report, new Date()), logger))) {
      await tryAgainToPublish(job, token, report);
    }
    return report;
  };
}

/**
 * `notification.failed` for notifications that fail for good without the processor deciding it:
 * an unreadable payload, a job that stalled (its worker died) more often than it may. Published
 * from BullMQ's failed event, after the fact: nothing else knows.
 */
export function publishUndecidedFailures(
  worker: Worker,
  sink: DeliveryEventSink,
  logger: Logger,
): void {
  worker.on("failed", (job, err) => {
    // BullMQ sets finishedOn only when it moves the job to failed for good.
    if (!job?.finishedOn) return;
    const report = readDeliveryReport(job.progress);
    if (report?.final) return; // decided by the processor: published by withNotificationEvents
    const at = new Date(job.finishedOn);
    void publishAll(sink, failedEvents(refOf(job), report, err.message, at), logger);
  });
}
