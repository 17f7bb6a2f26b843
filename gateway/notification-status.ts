import { z } from "@hono/zod-openapi";
import type { Job } from "bullmq";
import { initialDeliveryReport, readDeliveryReport } from "../contract/notification-job.js";

const ChannelDelivery = z
  .object({
    status: z.enum(["pending", "sent", "failed", "skipped"]),
    calls: z.number().int().describe("Provider calls made for this channel"),
    providerId: z.string().optional().describe("Resend email id or Twilio message SID"),
    error: z
      .object({
        code: z.string().describe("The provider's error code, for example 21211"),
        message: z.string(),
        permanent: z.boolean().describe("True when retrying cannot help"),
      })
      .optional(),
  })
  .openapi("ChannelDelivery");

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
    channels: z.object({ email: ChannelDelivery, sms: ChannelDelivery }),
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

/** Describes a job for the API; never includes the recipient's contact details. */
export function describeJob(job: Job, status: NotificationState): NotificationStatus {
  const data = typeof job.data === "object" && job.data !== null ? job.data : {};
  // A completed job's return value is its final report; progress holds it while retrying.
  const report =
    readDeliveryReport(job.returnvalue) ??
    readDeliveryReport(job.progress) ??
    initialDeliveryReport(data);
  return {
    id: String(job.id),
    status,
    attemptsMade: job.attemptsMade,
    createdAt: new Date(job.timestamp).toISOString(),
    ...(job.finishedOn ? { finishedAt: new Date(job.finishedOn).toISOString() } : {}),
    ...(status === "failed" && job.failedReason ? { failedReason: job.failedReason } : {}),
    channels: { email: report.email, sms: report.sms },
  };
}
