import { createRoute, z } from "@hono/zod-openapi";
import { notificationRequestSchema } from "../../contract/notification-job.js";
import type { GatewayApp, GatewayDeps } from "../app-types.js";
import { bodySizeLimit } from "../body-size-limit.js";
import { createEnqueuer, type EnqueueItem } from "../enqueue.js";
import { ErrorCode, formatZodError } from "../errors.js";
import { errorResponses } from "../openapi-schemas.js";

/** At most this many notifications per batch. */
export const MAX_BATCH = 100;
/** 100 notifications of a few hundred bytes each, with room to spare. */
const MAX_BATCH_BODY_BYTES = 256 * 1024;

const BatchItem = z
  .object({
    idempotencyKey: z
      .string()
      .regex(/^[\x21-\x7e]{1,255}$/)
      .optional(),
  })
  .catchall(z.unknown())
  .openapi("BatchItem", {
    description:
      "A notification as for POST /notifications, plus an optional idempotencyKey for this item alone.",
  });

const BatchResult = z
  .object({
    index: z.number().int().describe("The item's position in the request"),
    id: z.string().optional().describe("The notification id, when queued"),
    status: z.enum(["queued", "rejected"]),
    replayed: z
      .boolean()
      .optional()
      .describe("True when an idempotencyKey repeated an earlier item"),
    error: z.object({ code: ErrorCode, message: z.string() }).optional(),
  })
  .openapi("BatchResult");

const route = createRoute({
  method: "post",
  path: "/notifications/batch",
  summary: `Queue up to ${MAX_BATCH} notifications in one request; each item succeeds or fails alone`,
  security: [{ bearerAuth: [] }],
  middleware: [bodySizeLimit(MAX_BATCH_BODY_BYTES)] as const,
  request: {
    body: {
      required: true,
      content: {
        "application/json": {
          schema: z.strictObject({ notifications: z.array(BatchItem).min(1).max(MAX_BATCH) }),
          example: {
            notifications: [
              { to: "a@example.com", asset: "BTC", amount: 1000, quantity: 0.02, order: "o-1" },
              {
                phone: "+12025550143",
                asset: "ETH",
                amount: 50,
                quantity: 0.1,
                order: "o-2",
                idempotencyKey: "o-2",
              },
            ],
          },
        },
      },
    },
  },
  responses: {
    202: {
      description:
        "Per item: its id, or its validation error. Valid items are queued in one round trip.",
      content: {
        "application/json": {
          schema: z.object({
            accepted: z.number().int(),
            rejected: z.number().int(),
            results: z.array(BatchResult),
          }),
        },
      },
    },
    ...errorResponses(400, 401, 413, 415, 429, 503),
  },
});

/** `POST /notifications/batch`. */
export function registerBatchNotifications(app: GatewayApp, deps: GatewayDeps): void {
  const enqueue = createEnqueuer(deps);

  app.openapi(route, async (c) => {
    const { notifications } = c.req.valid("json");
    // Each item is a notification: the request paid for one, the items pay for the rest.
    await c.get("chargeApiLimit")?.(notifications.length - 1);
    const results: Array<z.infer<typeof BatchResult>> = [];
    const items: EnqueueItem[] = [];
    const itemIndexes: number[] = [];
    for (const [index, raw] of notifications.entries()) {
      const { idempotencyKey, ...fields } = raw;
      const parsed = notificationRequestSchema.safeParse(fields);
      if (parsed.success) {
        items.push({ request: parsed.data, ...(idempotencyKey ? { idempotencyKey } : {}) });
        itemIndexes.push(index);
      } else {
        results[index] = {
          index,
          status: "rejected",
          error: { code: "BAD_REQUEST", message: formatZodError(parsed.error) },
        };
      }
    }
    const outcomes = await enqueue(c.get("apiKeyId"), items, c.get("requestId"));
    for (const [position, outcome] of outcomes.entries()) {
      const index = itemIndexes[position] ?? 0;
      results[index] =
        "error" in outcome
          ? {
              index,
              status: "rejected",
              error: { code: outcome.error.code, message: outcome.error.message },
            }
          : {
              index,
              id: outcome.id,
              status: "queued",
              ...(outcome.replayed ? { replayed: true } : {}),
            };
    }
    const accepted = results.filter((result) => result.status === "queued").length;
    return c.json({ accepted, rejected: results.length - accepted, results }, 202);
  });
}
