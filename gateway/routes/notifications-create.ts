import { createRoute, z } from "@hono/zod-openapi";

import { notificationRequestSchema } from "../../contract/notification-job.js";
import type { GatewayApp, GatewayDeps } from "../app-types.js";
import { bodySizeLimit } from "../body-size-limit.js";
import { createEnqueuer } from "../enqueue.js";
import { refuseContradictingFill } from "../fill-terms.js";
import { IDEMPOTENCY_TTL_SECONDS } from "../idempotency.js";
import { queueUnavailable } from "../infrastructure-errors.js";
import { errorResponses } from "../openapi-schemas.js";

/** Requests are tiny JSON objects; anything bigger is a mistake or an attack. */
export const MAX_BODY_BYTES = 16 * 1024;

const Accepted = z
  .object({ id: z.string(), status: z.literal("queued") })
  .openapi("NotificationAccepted");

const IdempotencyKey = z
  .string()
  .regex(/^[\x21-\x7e]{1,255}$/, "must be 1-255 visible ASCII characters")
  .optional()
  .openapi({
    description: `Retry-safe key: the same key and body within ${IDEMPOTENCY_TTL_SECONDS / 3600} hours return the first notification's id and queue nothing new.`,
    example: "trade-8812-fill-1",
  });

/** The request headers the route validates. */
export const NOTIFICATION_HEADERS = z.object({ "idempotency-key": IdempotencyKey });

const route = createRoute({
  method: "post",
  path: "/notifications",
  summary: "Queue a trade notification (email, and SMS when `phone` is given)",
  security: [{ bearerAuth: [] }],
  middleware: [bodySizeLimit(MAX_BODY_BYTES)] as const,
  request: {
    headers: NOTIFICATION_HEADERS,
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
      description: "Queued; nothing has been sent yet. `Idempotent-Replayed: true` marks a repeat.",
      content: { "application/json": { schema: Accepted } },
    },
    ...errorResponses(400, 401, 409, 413, 415, 422, 429, 503),
  },
});

/** `POST /notifications`: validates, enqueues one BullMQ job and answers 202 at once. */
export function registerCreateNotification(app: GatewayApp, deps: GatewayDeps): void {
  const enqueue = createEnqueuer(deps);

  app.openapi(route, async (c) => {
    const idempotencyKey = c.req.valid("header")["idempotency-key"];
    const request = c.req.valid("json");
    await refuseContradictingFill(deps, c.get("apiKeyId"), request);
    const [outcome] = await enqueue(
      c.get("apiKeyId"),
      [{ request, idempotencyKey }],
      c.get("requestId"),
    );
    if (!outcome || "error" in outcome) throw outcome?.error ?? queueUnavailable();
    const headers = outcome.replayed ? { "Idempotent-Replayed": "true" } : undefined;
    return c.json({ id: outcome.id, status: "queued" as const }, 202, headers);
  });
}
