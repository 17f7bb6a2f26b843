import { randomUUID } from "node:crypto";
import { createRoute, z } from "@hono/zod-openapi";

import {
  type NotificationPayload,
  notificationJobOptions,
  notificationRequestSchema,
  TRADE_EXECUTED_JOB,
} from "../../contract/notification-job.js";
import type { GatewayApp, GatewayDeps } from "../app-types.js";
import { bodySizeLimit } from "../body-size-limit.js";
import { ApiError } from "../errors.js";
import {
  createIdempotencyStore,
  fingerprintOf,
  IDEMPOTENCY_TTL_SECONDS,
  type IdempotencyStore,
  notificationIdFor,
} from "../idempotency.js";
import { errorResponses } from "../openapi-schemas.js";
import { queueUnavailable, requireRedis } from "../require-redis.js";

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

const route = createRoute({
  method: "post",
  path: "/notifications",
  summary: "Queue a trade notification (email, and SMS when `phone` is given)",
  security: [{ bearerAuth: [] }],
  middleware: [bodySizeLimit(MAX_BODY_BYTES)] as const,
  request: {
    headers: z.object({ "idempotency-key": IdempotencyKey }),
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
    ...errorResponses(400, 401, 409, 413, 415, 422, 503),
  },
});

/** `POST /notifications`: validates, enqueues one BullMQ job and answers 202 at once. */
export function registerCreateNotification(app: GatewayApp, deps: GatewayDeps): void {
  const jobOptions = notificationJobOptions(deps.jobSettings);
  const idempotency = createIdempotencyStore(deps.redis, deps.queue.qualifiedName);
  const enqueue = async (id: string, payload: NotificationPayload) => {
    try {
      await deps.queue.add(TRADE_EXECUTED_JOB, payload, { ...jobOptions, jobId: id });
    } catch (err) {
      deps.logger.error({ err, notificationId: id }, "enqueue failed");
      throw queueUnavailable();
    }
  };

  app.openapi(route, async (c) => {
    const payload = c.req.valid("json");
    const key = c.req.valid("header")["idempotency-key"];
    requireRedis(deps.redis);
    if (key === undefined) {
      const id = randomUUID();
      await enqueue(id, payload);
      return c.json({ id, status: "queued" as const }, 202);
    }
    const { id, replayed } = await enqueueOnce(
      idempotency,
      c.get("apiKeyId"),
      key,
      payload,
      enqueue,
    );
    if (replayed) c.header("Idempotent-Replayed", "true");
    return c.json({ id, status: "queued" as const }, 202);
  });
}

/** Enqueues under an idempotency key: at most one notification per key and caller. */
async function enqueueOnce(
  store: IdempotencyStore,
  scope: string,
  key: string,
  payload: NotificationPayload,
  enqueue: (id: string, payload: NotificationPayload) => Promise<void>,
): Promise<{ id: string; replayed: boolean }> {
  const fingerprint = fingerprintOf(payload);
  const id = notificationIdFor(scope, key);
  const claim = await store.claim(scope, key, fingerprint, id).catch(() => {
    throw queueUnavailable();
  });
  switch (claim.kind) {
    case "replay":
      return { id: claim.id, replayed: true };
    case "mismatch":
      throw new ApiError(
        "UNPROCESSABLE_ENTITY",
        "This Idempotency-Key was already used with a different request body",
      );
    case "in_flight":
      throw new ApiError(
        "CONFLICT",
        "A request with this Idempotency-Key is still being accepted; retry shortly",
        { "Retry-After": "1" },
      );
    case "new":
      try {
        await enqueue(id, payload);
      } catch (err) {
        await store.release(scope, key).catch(() => {});
        throw err;
      }
      // The job is queued either way; should this write fail, the claim lapses in seconds and a
      // repeat re-adds under the same job id, which BullMQ ignores.
      await store.confirm(scope, key, fingerprint, id).catch(() => {});
      return { id, replayed: false };
  }
}
