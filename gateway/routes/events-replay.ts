import { createRoute, z } from "@hono/zod-openapi";
import type { EventPublisher } from "../../delivery/events/publisher.js";
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
    id: z.string().openapi({
      description: "The replay's id; a request for the same window answers it again",
      example: "0b6f2a52-5d0c-4a8e-9a43-2f1c7e0f8a11",
    }),
    replayed: z.number().int().openapi({ description: "Events this replay queued" }),
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
    "Each event keeps its `webhook-id`, so a backend that deduplicates by it sees nothing twice. Events are kept for EVENTS_RETENTION_DAYS (30 by default); the range selects by when an event was recorded and spans at most 7 days; one request replays at most 10,000 events. A window replays once: the same `from` and `to` again answer 200 with the first replay and queue nothing. Replays queue at most EVENTS_REPLAY_LIMIT_PER_HOUR events an hour across the deployment (10,000 by default); past it the answer is 429 with Retry-After.",
  security: [{ bearerAuth: [] }],
  middleware: [bodySizeLimit(1024)] as const,
  request: {
    body: { required: true, content: { "application/json": { schema: ReplayRequest } } },
  },
  responses: {
    200: {
      description: "This window was replayed already: that replay, and nothing queued now",
      content: { "application/json": { schema: ReplayAccepted } },
    },
    202: {
      description: "Queued for delivery again; they are POSTed as the events worker gets to them",
      content: { "application/json": { schema: ReplayAccepted } },
    },
    ...errorResponses(400, 401, 403, 409, 413, 415, 422, 429, 503),
  },
});

/**
 * Replays the window once, within the per-request and hourly limits. A range over either limit
 * is refused from its count, without reading its events.
 */
async function replayWindow(events: EventPublisher, from: Date, to: Date) {
  const earlier = await events.findReplay(from, to);
  if (earlier) return { outcome: "repeated" as const, replay: earlier };
  // One request fits in one hour's limit, or it could never be replayed at all.
  const max = Math.min(MAX_REPLAYED_EVENTS, events.replayLimitPerHour);
  if ((await events.countBetween(from, to)) > max) {
    throw new ApiError(
      "UNPROCESSABLE_ENTITY",
      `More than ${max} events in this range; replay a shorter one`,
    );
  }
  const result = await events.replay(from, to, await events.eventsBetween(from, to, max));
  if (result.outcome === "limited") {
    throw new ApiError(
      "TOO_MANY_REQUESTS",
      `Replays may queue ${events.replayLimitPerHour} events an hour across the deployment (EVENTS_REPLAY_LIMIT_PER_HOUR); ${result.queuedLastHour} were queued in the last hour and this range holds ${result.count}`,
      { "Retry-After": String(result.retryAfterSeconds) },
    );
  }
  return result;
}

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
    const body = c.req.valid("json");
    const { outcome, replay } = await replayWindow(
      deps.events,
      new Date(body.from),
      new Date(body.to),
    );
    deps.logger.info(
      {
        replayId: replay.id,
        from: replay.from,
        to: replay.to,
        replayed: replay.replayed,
        outcome,
        requestId: c.get("requestId"),
      },
      outcome === "queued" ? "events replayed" : "events replay repeated: nothing queued",
    );
    return c.json(replay, outcome === "queued" ? 202 : 200);
  });
}
