import { createRoute, z } from "@hono/zod-openapi";
import type { Job } from "bullmq";
import { anyChannelStarted } from "../../contract/delivery-report.js";
import { MAX_TIMELINE_ENTRIES } from "../../delivery/delivery-store.js";
import { type NotificationIndex, searchFieldsOf } from "../../delivery/notification-index.js";
import type { GatewayApp, GatewayDeps } from "../app-types.js";
import { ApiError } from "../errors.js";
import { findNotification, viewerOf } from "../find-notification.js";
import { reportOf, STATE_BY_BULLMQ_STATE } from "../notification-status.js";
import { errorResponses, NotificationId } from "../openapi-schemas.js";

const Cancelled = z
  .object({ id: z.string(), status: z.literal("cancelled") })
  .openapi("NotificationCancelled");

const route = createRoute({
  method: "delete",
  path: "/notifications/{id}",
  summary: "Cancel a notification that has not been sent yet (scheduled or still queued)",
  security: [{ bearerAuth: [] }],
  request: { params: z.object({ id: NotificationId }) },
  responses: {
    200: {
      description: "Cancelled: it will not be sent",
      content: { "application/json": { schema: Cancelled } },
    },
    ...errorResponses(400, 401, 404, 409, 429, 503),
  },
});

/** BullMQ states in which nothing has been sent and the job can still be removed. */
const CANCELLABLE = new Set(["waiting", "prioritized", "delayed"]);

/** `DELETE /notifications/{id}`. */
export function registerCancelNotification(
  app: GatewayApp,
  deps: GatewayDeps,
  services: { index: NotificationIndex },
): void {
  app.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    const viewer = viewerOf(c);
    const { job, state } = await findNotification(deps, id, viewer);
    // Every provider call is recorded before it is made: a job that already ran, or whose
    // worker died during a call, may have sent a channel.
    const started = job.attemptsMade > 0 || anyChannelStarted(reportOf(job));
    if (!CANCELLABLE.has(state)) {
      const shown = STATE_BY_BULLMQ_STATE[state] ?? state;
      throw new ApiError(
        "CONFLICT",
        `Only notifications not sent yet can be cancelled; this one is ${shown}`,
      );
    }
    if (started) {
      throw new ApiError(
        "CONFLICT",
        "Only notifications not sent yet can be cancelled; this one's messages may already have been sent",
      );
    }
    // remove() refuses a job a worker has just locked: the error handler answers that 409.
    await job.remove();
    await recordCancel(services.index, job, { keyId: viewer.id, requestId: c.get("requestId") });
    deps.logger.info(
      { notificationId: id, requestId: c.get("requestId") },
      "notification cancelled",
    );
    return c.json({ id, status: "cancelled" as const }, 200);
  });
}

/** Keeps the cancelled notification answerable for the retention: when, by which key, from what. */
function recordCancel(
  index: NotificationIndex,
  job: Job,
  by: { keyId: string; requestId: string },
): Promise<void> {
  const now = Date.now();
  const data = (job.data ?? {}) as Record<string, unknown>;
  const fields = searchFieldsOf(data, job.timestamp);
  return index.cancel({
    id: String(job.id),
    fields,
    record: {
      outcome: "cancelled",
      cancelledAt: String(now),
      cancelledBy: by.keyId,
      createdAt: String(job.timestamp),
      attemptsMade: String(job.attemptsMade),
      report: JSON.stringify(reportOf(job)),
      ...(fields.submittedBy ? { submittedBy: fields.submittedBy } : {}),
    },
    timelineEntry: JSON.stringify({
      at: new Date(now).toISOString(),
      source: "gateway",
      event: "cancelled",
      keyId: by.keyId,
      requestId: by.requestId,
    }),
    maxTimeline: MAX_TIMELINE_ENTRIES,
    now,
  });
}
