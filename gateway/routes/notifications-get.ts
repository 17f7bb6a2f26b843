import { createRoute, z } from "@hono/zod-openapi";
import type { Job } from "bullmq";
import { initialDeliveryReport, readDeliveryReport } from "../../contract/notification-job.js";
import type { GatewayApp, GatewayDeps } from "../app-types.js";
import { ApiError } from "../errors.js";
import { errorResponses, NotificationId } from "../openapi-schemas.js";

const ChannelDelivery = z
  .object({
    status: z.enum(["pending", "sent", "failed", "skipped"]),
    calls: z.number().int().describe("Provider calls made for this channel"),
    providerId: z.string().optional().describe("Resend email id or Twilio message SID"),
    error: z.object({ code: z.string(), message: z.string(), permanent: z.boolean() }).optional(),
  })
  .openapi("ChannelDelivery");

const NotificationStatus = z
  .object({
    id: z.string(),
    status: z.enum(["queued", "active", "delayed", "completed", "failed"]),
    attemptsMade: z.number().int(),
    createdAt: z.string().describe("ISO 8601"),
    finishedAt: z.string().optional().describe("ISO 8601, once completed or failed"),
    failedReason: z.string().optional(),
    channels: z.object({ email: ChannelDelivery, sms: ChannelDelivery }),
  })
  .openapi("NotificationStatus");
export type NotificationStatus = z.infer<typeof NotificationStatus>;

const route = createRoute({
  method: "get",
  path: "/notifications/{id}",
  summary: "Read a notification's state and what each channel did",
  security: [{ bearerAuth: [] }],
  request: { params: z.object({ id: NotificationId }) },
  responses: {
    200: {
      description: "The notification's state",
      content: { "application/json": { schema: NotificationStatus } },
    },
    ...errorResponses(400, 401, 404, 503),
  },
});

/** BullMQ's job states as this API names them; a retry waiting out its backoff is `delayed`. */
const STATUS_BY_STATE: Record<string, NotificationStatus["status"]> = {
  waiting: "queued",
  prioritized: "queued",
  "waiting-children": "queued",
  active: "active",
  delayed: "delayed",
  completed: "completed",
  failed: "failed",
};

/** `GET /notifications/{id}`. */
export function registerGetNotification(app: GatewayApp, deps: GatewayDeps): void {
  app.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    if (deps.redis.status !== "ready") {
      throw new ApiError(
        "SERVICE_UNAVAILABLE",
        "The notification queue is unavailable; retry later",
      );
    }
    const job = await deps.queue.getJob(id);
    const status = job ? STATUS_BY_STATE[await job.getState()] : undefined;
    if (!job || !status) throw new ApiError("NOT_FOUND", `No notification with id ${id}`);
    return c.json(describeJob(job, status), 200);
  });
}

function describeJob(job: Job, status: NotificationStatus["status"]): NotificationStatus {
  const data = typeof job.data === "object" && job.data !== null ? job.data : {};
  return {
    id: String(job.id),
    status,
    attemptsMade: job.attemptsMade,
    createdAt: new Date(job.timestamp).toISOString(),
    ...(job.finishedOn ? { finishedAt: new Date(job.finishedOn).toISOString() } : {}),
    ...(status === "failed" && job.failedReason ? { failedReason: job.failedReason } : {}),
    // A completed job's return value is its final report; progress holds it while retrying.
    channels:
      readDeliveryReport(job.returnvalue) ??
      readDeliveryReport(job.progress) ??
      initialDeliveryReport(data),
  };
}
