import { createRoute, z } from "@hono/zod-openapi";
import { MAX_TIMELINE_ENTRIES } from "../../delivery/delivery-store.js";
import type { NotificationIndex } from "../../delivery/notification-index.js";
import type { GatewayApp, GatewayDeps } from "../app-types.js";
import { ApiError } from "../errors.js";
import { findNotification, viewerOf } from "../find-notification.js";
import { errorResponses, NotificationId } from "../openapi-schemas.js";

const route = createRoute({
  method: "post",
  path: "/notifications/{id}/retry",
  summary: "Retry a failed notification: only its failed channels are sent again",
  security: [{ bearerAuth: [] }],
  request: { params: z.object({ id: NotificationId }) },
  responses: {
    202: {
      description: "Queued again with a fresh set of attempts",
      content: {
        "application/json": {
          schema: z.object({ id: z.string(), status: z.literal("queued") }),
        },
      },
    },
    ...errorResponses(400, 401, 404, 409, 429, 503),
  },
});

/** `POST /notifications/{id}/retry`. */
export function registerRetryNotification(
  app: GatewayApp,
  deps: GatewayDeps,
  services: { index: NotificationIndex },
): void {
  app.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    const viewer = viewerOf(c);
    const { job, state } = await findNotification(deps, id, viewer);
    if (state !== "failed") {
      throw new ApiError(
        "CONFLICT",
        `Only failed notifications can be retried; this one is ${state}`,
      );
    }
    // The worker sees the report's `final` mark and sends only the channels that failed.
    await job.retry("failed", { resetAttemptsMade: true, resetAttemptsStarted: true });
    const entry = {
      at: new Date().toISOString(),
      source: "gateway",
      event: "retried",
      keyId: viewer.id,
      requestId: c.get("requestId"),
    };
    await services.index.note(id, JSON.stringify(entry), MAX_TIMELINE_ENTRIES);
    deps.logger.info({ notificationId: id, requestId: c.get("requestId") }, "notification retried");
    return c.json({ id, status: "queued" as const }, 202);
  });
}
