import { createRoute, z } from "@hono/zod-openapi";
import type { DeliveryStore } from "../../delivery/delivery-store.js";
import type { GatewayApp, GatewayDeps } from "../app-types.js";
import { ApiError } from "../errors.js";
import { viewerOf } from "../find-notification.js";
import { visibleTo } from "../job-from-request.js";
import {
  describeJob,
  describeRecord,
  NotificationStatus,
  STATE_BY_BULLMQ_STATE,
} from "../notification-status.js";
import { errorResponses, NotificationId } from "../openapi-schemas.js";

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
    ...errorResponses(400, 401, 404, 429, 503),
  },
});

/**
 * `GET /notifications/{id}`: the job's state and report, with each channel's final status and
 * the timeline from the delivery record; once the job is removed (finished jobs are trimmed
 * after a day), from the record alone, for as long as it is kept. Either way another key's
 * notification is a 404, as an unknown one is.
 */
export function registerGetNotification(
  app: GatewayApp,
  deps: GatewayDeps,
  services: { store: DeliveryStore },
): void {
  app.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    const viewer = viewerOf(c);
    const notFound = () => new ApiError("NOT_FOUND", `No notification with id ${id}`);
    // The state first, the job's data second: a job that finishes in between is then reported
    // with its newer data, never as "completed" beside the channels it had before it ran.
    const state = await deps.queue.getJobState(id);
    const [job, record] = await Promise.all([
      state === "unknown" ? undefined : deps.queue.getJob(id),
      services.store.read(id),
    ]);
    if (job) {
      const status = STATE_BY_BULLMQ_STATE[state];
      if (!visibleTo(job, viewer) || !status) throw notFound();
      return c.json(describeJob(job, status, record), 200);
    }
    if (!record || !visibleTo({ data: { submittedBy: record.submittedBy } }, viewer)) {
      throw notFound();
    }
    // Accepted, then gone without a try (removed from the dashboard): nothing to report.
    if (!record.outcome && record.report === undefined && record.timeline.every(byGateway)) {
      throw notFound();
    }
    return c.json(describeRecord(record), 200);
  });
}

function byGateway(entry: { source: string }): boolean {
  return entry.source === "gateway";
}
