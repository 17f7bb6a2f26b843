import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import {
  CHANNELS,
  type Channel,
  maskRecipient,
  normalizeRecipient,
} from "../../contract/channels.js";
import {
  SUPPRESSION_REASONS,
  type Suppression,
  type SuppressionList,
} from "../../delivery/suppressions.js";
import type { GatewayApp, GatewayDeps, GatewayEnv } from "../app-types.js";
import { ApiError } from "../errors.js";
import type { createGatewayMetrics } from "../metrics.js";
import { errorResponses } from "../openapi-schemas.js";

const ChannelName = z.enum(CHANNELS as [Channel, ...Channel[]]);

const SuppressionItem = z
  .object({
    channel: ChannelName,
    recipient: z.string().describe("The email address (lower-cased) or E.164 number"),
    reason: z
      .enum(SUPPRESSION_REASONS)
      .describe(
        "bounce: a permanent bounce; complaint: marked as spam; provider_suppressed: on Resend's own list; stop: replied STOP (or Twilio refused it with 21610)",
      ),
    source: z.string().describe("Who reported it: resend or twilio"),
    code: z.string().optional().describe("The provider's code: the bounce type, 21610, STOP"),
    suppressedAt: z.string().describe("ISO 8601"),
    notificationId: z.string().optional().describe("The notification that bounced, when known"),
  })
  .openapi("Suppression");

const SuppressionPage = z
  .object({
    items: z.array(SuppressionItem),
    nextCursor: z
      .string()
      .nullable()
      .describe("Pass as `cursor` for the next page; null at the end of the list"),
  })
  .openapi("SuppressionPage");

const listRoute = createRoute({
  method: "get",
  path: "/suppressions",
  summary: "List suppressed recipients (admin-scoped keys only)",
  security: [{ bearerAuth: [] }],
  request: {
    query: z.object({
      channel: ChannelName.optional(),
      cursor: z
        .string()
        .regex(/^\d{1,20}$/)
        .default("0")
        .openapi({ description: "From the previous page's `nextCursor`; 0 (or none) starts" }),
      limit: z.coerce.number().int().min(1).max(500).default(100),
    }),
  },
  responses: {
    200: {
      description: "One page; it may hold fewer than `limit` items, even none, before the end",
      content: { "application/json": { schema: SuppressionPage } },
    },
    ...errorResponses(400, 401, 403, 429, 503),
  },
});

const Lifted = z
  .object({ channel: ChannelName, recipient: z.string(), status: z.literal("lifted") })
  .openapi("SuppressionLifted");

const deleteRoute = createRoute({
  method: "delete",
  path: "/suppressions/{channel}/{recipient}",
  summary: "Lift a recipient's suppression (admin-scoped keys only)",
  security: [{ bearerAuth: [] }],
  request: {
    params: z.object({
      channel: ChannelName.openapi({ param: { name: "channel", in: "path" } }),
      recipient: z
        .string()
        .min(1)
        .max(254)
        .openapi({
          param: { name: "recipient", in: "path" },
          description: "The email address or E.164 number, URL-encoded (`%2B` for `+`)",
          example: "user@example.com",
        }),
    }),
  },
  responses: {
    200: {
      description: "Lifted: later notifications are sent to it again",
      content: { "application/json": { schema: Lifted } },
    },
    ...errorResponses(400, 401, 403, 404, 429, 503),
  },
});

function requireAdmin(c: Context<GatewayEnv>): void {
  if (!c.get("apiKeyAdmin")) {
    throw new ApiError("FORBIDDEN", "Only admin-scoped API keys manage the suppression list");
  }
}

function describe(suppression: Suppression): z.infer<typeof SuppressionItem> {
  return {
    channel: suppression.channel,
    recipient: suppression.recipient,
    reason: suppression.reason,
    source: suppression.source,
    ...(suppression.code ? { code: suppression.code } : {}),
    suppressedAt: suppression.at,
    ...(suppression.notificationId ? { notificationId: suppression.notificationId } : {}),
  };
}

/** `GET /suppressions` and `DELETE /suppressions/{channel}/{recipient}`, for admin keys. */
export function registerSuppressions(
  app: GatewayApp,
  deps: GatewayDeps,
  services: {
    suppressions: SuppressionList;
    metrics: ReturnType<typeof createGatewayMetrics>["delivery"];
  },
): void {
  app.openapi(listRoute, async (c) => {
    requireAdmin(c);
    const { channel, cursor, limit } = c.req.valid("query");
    const page = await services.suppressions.list(cursor, limit, channel);
    return c.json(
      {
        items: page.items.map(describe),
        nextCursor: page.cursor === "0" ? null : page.cursor,
      },
      200,
    );
  });

  app.openapi(deleteRoute, async (c) => {
    requireAdmin(c);
    const { channel, recipient } = c.req.valid("param");
    const lifted = await services.suppressions.remove(channel, recipient);
    if (!lifted) throw new ApiError("NOT_FOUND", `${channel} recipient is not suppressed`);
    services.metrics.recordLifted(channel, "admin");
    deps.logger.info(
      {
        requestId: c.get("requestId"),
        apiKeyId: c.get("apiKeyId"),
        channel,
        to: maskRecipient(channel, recipient),
      },
      "suppression lifted by an admin",
    );
    return c.json(
      { channel, recipient: normalizeRecipient(channel, recipient), status: "lifted" as const },
      200,
    );
  });
}
