import { z } from "@hono/zod-openapi";
import type { Job } from "bullmq";
import {
  type DeliveryReport,
  deliveryReportSchema,
  initialDeliveryReport,
  readDeliveryReport,
} from "../contract/delivery-report.js";

/** Each channel's report, as the API documents it (without `final`, the worker's own mark). */
const Channels = deliveryReportSchema.omit({ final: true }).openapi("DeliveryChannels");

/** The states this API reports; a retry waiting out its backoff is `delayed`. */
export const NotificationState = z.enum(["queued", "active", "delayed", "completed", "failed"]);
export type NotificationState = z.infer<typeof NotificationState>;

/** A notification as `GET /notifications/{id}` and the list report it. */
export const NotificationStatus = z
  .object({
    id: z.string(),
    status: NotificationState,
    attemptsMade: z.number().int(),
    createdAt: z.string().describe("ISO 8601"),
    finishedAt: z.string().optional().describe("ISO 8601, once completed or failed"),
    failedReason: z.string().optional(),
    channels: Channels,
  })
  .openapi("NotificationStatus");
export type NotificationStatus = z.infer<typeof NotificationStatus>;

/** BullMQ's job states as this API names them. */
export const STATE_BY_BULLMQ_STATE: Record<string, NotificationState> = {
  waiting: "queued",
  prioritized: "queued",
  "waiting-children": "queued",
  active: "active",
  delayed: "delayed",
  completed: "completed",
  failed: "failed",
};

/** A job's delivery report: its return value once completed, its progress while under way. */
export function reportOf(job: Job): DeliveryReport {
  const data = typeof job.data === "object" && job.data !== null ? job.data : {};
  return (
    readDeliveryReport(job.returnvalue) ??
    readDeliveryReport(job.progress) ??
    initialDeliveryReport(data)
  );
}

/** Describes a job for the API; never includes the recipient's contact details. */
export function describeJob(job: Job, status: NotificationState): NotificationStatus {
  const report = reportOf(job);
  return {
    id: String(job.id),
    status,
    attemptsMade: job.attemptsMade,
    createdAt: new Date(job.timestamp).toISOString(),
    ...(job.finishedOn ? { finishedAt: new Date(job.finishedOn).toISOString() } : {}),
    ...(status === "failed" && job.failedReason ? { failedReason: job.failedReason } : {}),
    channels: Channels.parse(report),
  };
}
