import { createRoute, z } from "@hono/zod-openapi";
import type { GatewayApp, GatewayDeps } from "../app-types.js";
import { ApiError } from "../errors.js";
import { findNotification, viewerOf } from "../find-notification.js";
import { describeJob, NotificationStatus, STATE_BY_BULLMQ_STATE } from "../notification-status.js";
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

/** `GET /notifications/{id}`. */
export function registerGetNotification(app: GatewayApp, deps: GatewayDeps): void {
  app.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    const { job, state } = await findNotification(deps, id, viewerOf(c));
    const status = STATE_BY_BULLMQ_STATE[state];
    if (!status) throw new ApiError("NOT_FOUND", `No notification with id ${id}`);
    return c.json(describeJob(job, status), 200);
  });
}
