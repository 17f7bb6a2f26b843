import type { JobsOptions } from "bullmq";
import {
  type NotificationJobSettings,
  type NotificationPayload,
  type NotificationRequest,
  notificationRetryOptions,
  priorityOptions,
} from "../contract/notification-job.js";

/** A notification's job data: the payload, and the id of the API key that submitted it. */
export type NotificationJobData = NotificationPayload & { submittedBy?: string };

/** What `queue.add` needs for one notification. */
export interface NotificationJob {
  name: string;
  data: NotificationJobData;
  opts: JobsOptions;
}

/**
 * Whether the holder of API key `viewer` may see a job: admin keys see all; other keys only the
 * jobs they submitted (direct producers' jobs carry no submitter: admin keys only).
 */
export function visibleTo(job: { data: unknown }, viewer: { id: string; admin: boolean }): boolean {
  if (viewer.admin) return true;
  const data = job.data as { submittedBy?: unknown } | null;
  return data?.submittedBy === viewer.id;
}

/**
 * Turns a validated request into a BullMQ job: the payload is the job's data (what the worker
 * and existing producers share); priority and sendAt become BullMQ's priority and delay. The
 * job carries its retries; how long it is kept once finished is the worker's setting.
 */
export function jobFromRequest(
  request: NotificationRequest,
  id: string,
  settings: NotificationJobSettings,
  submittedBy: string,
  now = Date.now(),
): NotificationJob {
  const { priority, sendAt, ...payload } = request;
  const data: NotificationJobData = { ...payload, submittedBy };
  const delay = sendAt === undefined ? 0 : Math.max(0, Date.parse(sendAt) - now);
  return {
    name: data.type,
    data,
    opts: {
      ...notificationRetryOptions(settings),
      jobId: id,
      ...priorityOptions(priority),
      ...(delay > 0 ? { delay } : {}),
    },
  };
}
