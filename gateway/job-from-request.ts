import type { JobsOptions } from "bullmq";
import {
  type NotificationJobSettings,
  type NotificationPayload,
  type NotificationRequest,
  notificationJobOptions,
  priorityOptions,
} from "../contract/notification-job.js";

/** What `queue.add` needs for one notification. */
export interface NotificationJob {
  name: string;
  data: NotificationPayload;
  opts: JobsOptions;
}

/**
 * Turns a validated request into a BullMQ job: the payload is the job's data (what the worker
 * and existing producers share); priority and sendAt become BullMQ's priority and delay.
 */
export function jobFromRequest(
  request: NotificationRequest,
  id: string,
  settings: NotificationJobSettings,
  now = Date.now(),
): NotificationJob {
  const { priority, sendAt, ...data } = request;
  const delay = sendAt === undefined ? 0 : Math.max(0, Date.parse(sendAt) - now);
  return {
    name: data.type,
    data,
    opts: {
      ...notificationJobOptions(settings),
      jobId: id,
      ...priorityOptions(priority),
      ...(delay > 0 ? { delay } : {}),
    },
  };
}
