import { createRoute, z } from "@hono/zod-openapi";
import type { JobType } from "bullmq";
import type { GatewayApp, GatewayDeps } from "../app-types.js";
import { viewerOf } from "../find-notification.js";
import { visibleTo } from "../job-from-request.js";
import { describeJob, NotificationState, NotificationStatus } from "../notification-status.js";
import { errorResponses } from "../openapi-schemas.js";

/** Pages past this are refused (400): no one pages that far, and huge offsets cost Redis. */
const MAX_PAGE = 10_000;
/** How many of a state's newest jobs a key that is not admin-scoped can page through. */
const OWN_LIST_WINDOW = 2000;

/** BullMQ states behind each state of this API. */
const BULLMQ_TYPES: Record<NotificationState, JobType[]> = {
  queued: ["waiting", "prioritized"],
  active: ["active"],
  delayed: ["delayed"],
  completed: ["completed"],
  failed: ["failed"],
};

const NotificationPage = z
  .object({
    items: z.array(NotificationStatus),
    page: z.number().int(),
    pageSize: z.number().int(),
    total: z.number().int(),
  })
  .openapi("NotificationPage");

const route = createRoute({
  method: "get",
  path: "/notifications",
  summary: "List notifications in one state, newest first (for example the failed ones)",
  security: [{ bearerAuth: [] }],
  request: {
    query: z.object({
      state: NotificationState.default("failed"),
      page: z.coerce.number().int().min(1).max(MAX_PAGE).default(1),
      pageSize: z.coerce.number().int().min(1).max(100).default(20),
    }),
  },
  responses: {
    200: { description: "One page", content: { "application/json": { schema: NotificationPage } } },
    ...errorResponses(400, 401, 429, 503),
  },
});

/** `GET /notifications?state=failed&page=1&pageSize=20`. */
export function registerListNotifications(app: GatewayApp, deps: GatewayDeps): void {
  app.openapi(route, async (c) => {
    const { state, page, pageSize } = c.req.valid("query");
    const types = BULLMQ_TYPES[state];
    const start = (page - 1) * pageSize;
    const viewer = viewerOf(c);
    if (viewer.admin) {
      const [jobs, total] = await Promise.all([
        deps.queue.getJobs(types, start, start + pageSize - 1, false),
        deps.queue.getJobCountByTypes(...types),
      ]);
      const items = jobs.filter(Boolean).map((job) => describeJob(job, state));
      return c.json({ items, page, pageSize, total }, 200);
    }
    // Another key's notifications are not listed. BullMQ cannot filter by submitter, so the
    // newest OWN_LIST_WINDOW jobs of the state are read and filtered: older ones are not listed.
    const recent = await deps.queue.getJobs(types, 0, OWN_LIST_WINDOW - 1, false);
    const own = recent.filter((job) => job && visibleTo(job, viewer));
    const items = own.slice(start, start + pageSize).map((job) => describeJob(job, state));
    return c.json({ items, page, pageSize, total: own.length }, 200);
  });
}
