/**
 * The events the worker reports to the exchange's backend (issue #14): `notification.sent` once
 * a provider accepted a channel, `notification.failed` once a notification failed for good. Each
 * id is derived from the fact, so publishing it again (every progress write repeats the sent
 * channels) delivers it once.
 */
import type { Job, Worker } from "bullmq";
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
 * Publishes the worker's events from the notification worker's own BullMQ events: after the
 * fact, never in a send's path, so publishing (Redis) cannot delay or fail a notification. A
 * sent channel is published from every progress write that shows it (a try that goes on to
 * retry or wait writes one) and from the completed report; its id makes that one event.
 * A publish that fails is logged; the next write of the same job publishes it again.
 */
export function publishNotificationEvents(
  worker: Worker,
  sink: DeliveryEventSink,
  logger: Logger,
): void {
  const publish = (events: DeliveryEvent[]) => {
    for (const event of events) {
      sink.publish(event).catch((err: Error) => {
        logger.warn(
          { eventId: event.id, type: event.type, err: err.message },
          "event not published",
        );
      });
    }
  };
  worker.on("progress", (job, progress) => {
    const report = readDeliveryReport(progress);
    if (report) publish(sentEvents(refOf(job), report, new Date()));
  });
  worker.on("completed", (job) => {
    const report = readDeliveryReport(job.returnvalue);
    if (report) publish(sentEvents(refOf(job), report, new Date()));
  });
  worker.on("failed", (job, err) => {
    // BullMQ sets finishedOn only when it moves the job to failed for good.
    if (!job?.finishedOn) return;
    const report = readDeliveryReport(job.progress);
    const at = new Date(job.finishedOn);
    if (report) publish(sentEvents(refOf(job), report, at));
    publish(failedEvents(refOf(job), report, err.message, at));
  });
}
