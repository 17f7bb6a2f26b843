import { createRoute, z } from "@hono/zod-openapi";
import type { GatewayApp, GatewayDeps } from "../app-types.js";
import { bodySizeLimit } from "../body-size-limit.js";
import { ApiError } from "../errors.js";
import { errorResponses } from "../openapi-schemas.js";

/** A replay covers at most a week: longer outages are replayed a week at a time. */
const MAX_RANGE_DAYS = 7;
const MAX_RANGE_MS = MAX_RANGE_DAYS * 24 * 60 * 60 * 1000;
/** Events queued by one request at most, so one call cannot flood the queue (and the backend). */
export const MAX_REPLAYED_EVENTS = 10_000;

const Instant = z.iso.datetime({ offset: true });

const ReplayRequest = z
  .object({
    from: Instant.openapi({ example: "2026-11-26T08:00:00Z" }),
    to: Instant.openapi({ example: "2026-11-26T12:00:00Z" }),
  })
  .superRefine(({ from, to }, ctx) => {
    const span = Date.parse(to) - Date.parse(from);
    // Either bound unreadable: its own issue says so already.
    if (Number.isNaN(span)) return;
    if (span <= 0) ctx.addIssue({ code: "custom", path: ["to"], message: "must be after from" });
    if (span > MAX_RANGE_MS) {
      const message = `the range may span at most ${MAX_RANGE_DAYS} days`;
      ctx.addIssue({ code: "custom", path: ["to"], message });
    }
  })
  .openapi("EventReplayRequest");

const ReplayAccepted = z
  .object({
    replayed: z.number().int().openapi({ description: "Events queued for delivery again" }),
    from: z.string(),
    to: z.string(),
  })
  .openapi("EventReplayAccepted");

const route = createRoute({
  method: "post",
  path: "/events/replay",
  summary:
    "Send the events recorded in a time range to the backend again, with their original ids (admin keys only)",
  description:
    "Each event keeps its `webhook-id`, so a backend that deduplicates by it sees nothing twice. Events are kept for EVENTS_RETENTION_DAYS (30 by default); the range selects by when an event was recorded and spans at most 7 days; one request replays at most 10,000 events.",
  security: [{ bearerAuth: [] }],
  middleware: [bodySizeLimit(1024)] as const,
  request: {
    body: { required: true, content: { "application/json": { schema: ReplayRequest } } },
  },
  responses: {
    202: {
      description: "Queued for delivery again; they are POSTed as the events worker gets to them",
      content: { "application/json": { schema: ReplayAccepted } },
    },
    ...errorResponses(400, 401, 403, 409, 413, 415, 422, 429, 503),
  },
});

/** `POST /events/replay`. */
export function registerReplayEvents(app: GatewayApp, deps: GatewayDeps): void {
  app.openapi(route, async (c) => {
    if (!c.get("apiKeyAdmin")) {
      throw new ApiError("FORBIDDEN", "Replaying events needs an admin-scoped API key");
    }
    if (!deps.events) {
      throw new ApiError(
        "CONFLICT",
        "Events to the backend are off: EVENTS_WEBHOOK_URL is not set",
      );
    }
    const { from, to } = c.req.valid("json");
    // Counted first: a range over the limit is refused without reading its events.
    if ((await deps.events.countBetween(new Date(from), new Date(to))) > MAX_REPLAYED_EVENTS) {
      throw new ApiError(
        "UNPROCESSABLE_ENTITY",
        `More than ${MAX_REPLAYED_EVENTS} events in this range; replay a shorter one`,
      );
    }
    const events = await deps.events.eventsBetween(
      new Date(from),
      new Date(to),
      MAX_REPLAYED_EVENTS,
    );
    await deps.events.replay(events);
    deps.logger.info(
      { from, to, replayed: events.length, requestId: c.get("requestId") },
      "events replayed",
    );
    return c.json({ replayed: events.length, from, to }, 202);
  });
}
