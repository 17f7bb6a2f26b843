import { createRoute, z } from "@hono/zod-openapi";
import type { JobType } from "bullmq";
import type { DeliveryStore } from "../../delivery/delivery-store.js";
import type { NotificationIndex } from "../../delivery/notification-index.js";
import type { GatewayApp, GatewayDeps } from "../app-types.js";
import { ApiError } from "../errors.js";
import { viewerOf } from "../find-notification.js";
import { createNotificationSearch } from "../notification-search.js";
import { describeJob, NotificationState, NotificationStatus } from "../notification-status.js";
import { errorResponses } from "../openapi-schemas.js";

/** Items of a page that cost one point of the per-key limit: a bigger page costs more. */
const ITEMS_PER_POINT = 20;

/** BullMQ states behind each state of this API that BullMQ keeps. */
const BULLMQ_TYPES: Partial<Record<NotificationState, JobType[]>> = {
  queued: ["waiting", "prioritized"],
  active: ["active"],
  delayed: ["delayed"],
  completed: ["completed"],
  failed: ["failed"],
};

const NotificationPage = z
  .object({
    items: z.array(NotificationStatus),
    pageSize: z.number().int(),
    nextCursor: z
      .string()
      .nullable()
      .describe(
        "Pass as `cursor` for the next page; null at the end. A page may hold fewer than `pageSize` items before the end",
      ),
    total: z
      .number()
      .int()
      .optional()
      .describe("Notifications in the state, for an admin key's list of one state only"),
  })
  .openapi("NotificationPage");

const isoWithOffset = z.iso.datetime({ offset: true });

const route = createRoute({
  method: "get",
  path: "/notifications",
  summary: "Search notifications by state, order, recipient and creation time, newest first",
  security: [{ bearerAuth: [] }],
  request: {
    query: z
      .strictObject({
        state: NotificationState.optional().describe("Only notifications in this state"),
        order: z.string().min(1).max(128).optional().describe("The order id (or reference) sent"),
        recipient: z
          .union([z.email().max(254), z.string().regex(/^\+[1-9]\d{6,14}$/)])
          .optional()
          .describe("An email address (any case) or an E.164 phone number it went to"),
        since: isoWithOffset.optional().describe("Created at or after (ISO 8601 with an offset)"),
        until: isoWithOffset.optional().describe("Created at or before (ISO 8601 with an offset)"),
        pageSize: z.coerce.number().int().min(1).max(100).default(20),
        cursor: z.string().max(200).optional().describe("The previous page's `nextCursor`"),
      })
      .refine((q) => !q.since || !q.until || Date.parse(q.since) <= Date.parse(q.until), {
        message: "must not be after `until`",
        path: ["since"],
      }),
  },
  responses: {
    200: { description: "One page", content: { "application/json": { schema: NotificationPage } } },
    ...errorResponses(400, 401, 429, 503),
  },
});

/**
 * `GET /notifications?order=…&recipient=…&since=…&until=…&state=…&pageSize=20&cursor=…`: a key's
 * own notifications, an admin key's everyone's, read from the search indexes a page at a time.
 */
export function registerListNotifications(
  app: GatewayApp,
  deps: GatewayDeps,
  services: { index: NotificationIndex; store: DeliveryStore },
): void {
  const search = createNotificationSearch(deps, services);
  app.openapi(route, async (c) => {
    const query = c.req.valid("query");
    const viewer = viewerOf(c);
    await c.get("chargeApiLimit")?.(Math.ceil(query.pageSize / ITEMS_PER_POINT) - 1);
    const types = query.state ? BULLMQ_TYPES[query.state] : undefined;
    const searching = query.order ?? query.recipient ?? query.since ?? query.until;
    if (viewer.admin && types && !searching) {
      // An admin's list of one state reads BullMQ's own list of it: direct producers' jobs are in
      // it before the worker first records (and indexes) them.
      const start = query.cursor === undefined ? 0 : offsetOf(query.cursor);
      const [jobs, total] = await Promise.all([
        deps.queue.getJobs(types, start, start + query.pageSize - 1, false),
        deps.queue.getJobCountByTypes(...types),
      ]);
      const state = query.state ?? "queued";
      const items = jobs.filter(Boolean).map((job) => describeJob(job, state));
      const next = start + query.pageSize;
      const nextCursor = next < total ? `offset:${next}` : null;
      return c.json({ items, pageSize: query.pageSize, nextCursor, total }, 200);
    }
    const page = await search({
      viewer,
      pageSize: query.pageSize,
      ...(query.state ? { state: query.state } : {}),
      ...(query.order ? { order: query.order } : {}),
      ...(query.recipient ? { recipient: query.recipient } : {}),
      ...(query.since ? { since: Date.parse(query.since) } : {}),
      ...(query.until ? { until: Date.parse(query.until) } : {}),
      ...(query.cursor ? { cursor: query.cursor } : {}),
    });
    return c.json({ ...page, pageSize: query.pageSize }, 200);
  });
}

/** An admin list's cursor: the offset into BullMQ's list of the state. */
function offsetOf(cursor: string): number {
  const offset = Number(/^offset:(\d{1,6})$/.exec(cursor)?.[1]);
  if (!Number.isSafeInteger(offset)) {
    throw new ApiError("BAD_REQUEST", "cursor: not a cursor this API returned");
  }
  return offset;
}
