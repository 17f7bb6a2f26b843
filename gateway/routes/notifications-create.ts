import { randomUUID } from "node:crypto";
import { createRoute, z } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import {
  notificationJobOptions,
  notificationRequestSchema,
  TRADE_EXECUTED_JOB,
} from "../../contract/notification-job.js";
import type { GatewayApp, GatewayDeps } from "../app-types.js";
import { ApiError } from "../errors.js";
import { errorResponses } from "../openapi-schemas.js";

/** Requests are tiny JSON objects; anything bigger is a mistake or an attack. */
export const MAX_BODY_BYTES = 16 * 1024;

const Accepted = z
  .object({ id: z.string(), status: z.literal("queued") })
  .openapi("NotificationAccepted");

const route = createRoute({
  method: "post",
  path: "/notifications",
  summary: "Queue a trade notification (email, and SMS when `phone` is given)",
  security: [{ bearerAuth: [] }],
  middleware: [
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new ApiError("PAYLOAD_TOO_LARGE", `Request body exceeds ${MAX_BODY_BYTES} bytes`);
      },
    }),
  ] as const,
  request: {
    body: {
      required: true,
      content: {
        "application/json": {
          schema: notificationRequestSchema,
          example: {
            to: "user@example.com",
            phone: "+12025550143",
            asset: "BTC",
            amount: 1000,
            quantity: 0.02,
            order: "order-id-123",
            side: "buy",
          },
        },
      },
    },
  },
  responses: {
    202: {
      description: "Queued; nothing has been sent yet",
      content: { "application/json": { schema: Accepted } },
    },
    ...errorResponses(400, 401, 413, 415, 503),
  },
});

/** `POST /notifications`: validates, enqueues one BullMQ job and answers 202 at once. */
export function registerCreateNotification(app: GatewayApp, deps: GatewayDeps): void {
  const jobOptions = notificationJobOptions(deps.jobSettings);

  app.openapi(route, async (c) => {
    const payload = c.req.valid("json");
    // Checked before add(): while ioredis reconnects, BullMQ would otherwise wait for it.
    if (deps.redis.status !== "ready") throw queueUnavailable();
    const id = randomUUID();
    try {
      await deps.queue.add(TRADE_EXECUTED_JOB, payload, { ...jobOptions, jobId: id });
    } catch (err) {
      deps.logger.error({ err, requestId: c.get("requestId") }, "enqueue failed");
      throw queueUnavailable();
    }
    return c.json({ id, status: "queued" as const }, 202);
  });
}

function queueUnavailable(): ApiError {
  return new ApiError("SERVICE_UNAVAILABLE", "The notification queue is unavailable; retry later", {
    "Retry-After": "1",
  });
}
