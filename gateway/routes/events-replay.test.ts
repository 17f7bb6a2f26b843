import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DELIVERY_EVENTS_QUEUE } from "../../contract/delivery-events-queue.js";
import { createEventLog } from "../../delivery/events/event-log.js";
import {
  acceptedWithId,
  bounceEvent,
  type EventsHarness,
  startEventsHarness,
} from "../../test/events-fixture.js";
import { createTestQueue, eventually } from "../../test/fixtures.js";
import { ADMIN_API_KEY, gatewayOver, TEST_API_KEY } from "../../test/gateway-fixture.js";
import { MAX_REPLAYED_EVENTS } from "./events-replay.js";

type Gateway = ReturnType<typeof gatewayOver>;

function replay(gateway: Gateway, body: unknown, key = ADMIN_API_KEY) {
  return gateway.app.request("/events/replay", {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

describe("POST /events/replay", () => {
  /** Records one event in the log at `at` (ms), as if published then. */
  function recordAt(at: number) {
    const log = createEventLog(fixture.redis, `${fixture.prefix}:${DELIVERY_EVENTS_QUEUE}`, 30);
    return log.record(bounceEvent(randomUUID()), at);
  }

  let fixture: Awaited<ReturnType<typeof createTestQueue>>;
  let events: EventsHarness;
  let gateway: Gateway;
  beforeEach(async () => {
    fixture = await createTestQueue();
    events = await startEventsHarness({ prefix: fixture.prefix, redis: fixture.redis });
    gateway = gatewayOver(fixture, { events: events.publisher });
  });
  afterEach(async () => {
    await events.stop();
    await fixture.cleanup();
  });

  it("re-sends the events recorded in the range with their original ids, and no others", async () => {
    const before = bounceEvent(randomUUID());
    await events.publisher.publish(before);
    await eventually(() => expect(acceptedWithId(events.backend, before.id)).toHaveLength(1));
    const from = new Date(Date.now() + 1);
    await eventually(() => expect(Date.now()).toBeGreaterThan(from.getTime()));
    const inRange = [bounceEvent(randomUUID()), bounceEvent(randomUUID())];
    for (const event of inRange) await events.publisher.publish(event);
    await eventually(() => expect(events.backend.accepted()).toHaveLength(3));

    const response = await replay(gateway, {
      from: from.toISOString(),
      to: new Date(Date.now() + 1000).toISOString(),
    });
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ replayed: 2 });
    await eventually(() => {
      for (const event of inRange) expect(acceptedWithId(events.backend, event.id)).toHaveLength(2);
    });
    // The replayed requests are the same events, signed again, under the same webhook-id.
    for (const event of inRange) {
      const [first, again] = acceptedWithId(events.backend, event.id);
      expect(again?.event).toEqual(first?.event);
      expect(again?.verified).toBe(true);
    }
    expect(acceptedWithId(events.backend, before.id)).toHaveLength(1);
    expect(events.backend.received).toHaveLength(5);
  });

  it("answers 403 to a key without admin scope and replays nothing", async () => {
    await events.publisher.publish(bounceEvent(randomUUID()));
    const response = await replay(
      gateway,
      { from: new Date(Date.now() - 60_000).toISOString(), to: new Date().toISOString() },
      TEST_API_KEY,
    );
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({
      error: {
        code: "FORBIDDEN",
        message: "Replaying events needs an admin-scoped API key",
        requestId: expect.any(String),
      },
    });
    expect(await events.queue.getJobCountByTypes("waiting", "active", "completed", "delayed")).toBe(
      1,
    );
  });

  it("answers 401 without a key", async () => {
    const response = await gateway.app.request("/events/replay", { method: "POST" });
    expect(response.status).toBe(401);
  });

  it.each([
    [{ from: "2026-11-26T08:00:00Z" }, "to: is required"],
    [{ from: "yesterday", to: "2026-11-26T08:00:00Z" }, "from: Invalid ISO datetime"],
    [{ from: "2026-11-26T08:00:00Z", to: "2026-11-26T07:00:00Z" }, "to: must be after from"],
    [
      { from: "2026-11-01T00:00:00Z", to: "2026-11-26T00:00:00Z" },
      "to: the range may span at most 7 days",
    ],
  ])("answers 400 to %j", async (body, message) => {
    const response = await replay(gateway, body);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: { code: "BAD_REQUEST", message, requestId: expect.any(String) },
    });
  });

  it("replays a range of 1,200 events in pages, through the gateway's fail-fast connection", async () => {
    await events.worker?.close(); // counted in the queue, not delivered
    const log = createEventLog(fixture.redis, `${fixture.prefix}:${DELIVERY_EVENTS_QUEUE}`, 30);
    const at = Date.now() - 60_000;
    for (let start = 0; start < 1200; start += 400) {
      await Promise.all(
        Array.from({ length: 400 }, () => log.record(bounceEvent(randomUUID()), at)),
      );
    }
    const response = await replay(gateway, {
      from: new Date(at - 1000).toISOString(),
      to: new Date(at + 1000).toISOString(),
    });
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ replayed: 1200 });
    expect(await events.queue.getWaitingCount()).toBe(1200);
  });

  it("answers 422 to a range holding more than 10,000 events and queues none", async () => {
    // Written straight into the log's keys, in two commands: 10,001 recordings would load the
    // suite's shared Redis for seconds.
    const base = `${fixture.prefix}:${DELIVERY_EVENTS_QUEUE}:event-log`;
    const at = Date.now() - 60_000;
    const recorded = Array.from({ length: MAX_REPLAYED_EVENTS + 1 }, () =>
      bounceEvent(randomUUID()),
    );
    await fixture.redis
      .multi()
      .zadd(`${base}:log`, ...recorded.flatMap((event) => [at, event.id]))
      .hset(`${base}:events`, ...recorded.flatMap((event) => [event.id, JSON.stringify(event)]))
      .exec();
    const response = await replay(gateway, {
      from: new Date(at - 1000).toISOString(),
      to: new Date(at + 1000).toISOString(),
    });
    expect(response.status).toBe(422);
    expect(((await response.json()) as { error: { message: string } }).error.message).toBe(
      "More than 10000 events in this range; replay a shorter one",
    );
    expect(await events.queue.count()).toBe(0);
  });

  it("answers a repeated window with the first replay's id and queues nothing", async () => {
    await events.worker?.close(); // counted in the queue, not delivered
    const at = Date.now() - 60_000;
    for (let index = 0; index < 3; index += 1) await recordAt(at);
    const window = { from: new Date(at - 1000), to: new Date(at + 1000) };
    const body = { from: window.from.toISOString(), to: window.to.toISOString() };
    // Two at once: one queues, the other answers its replay.
    const [one, other] = await Promise.all([replay(gateway, body), replay(gateway, body)]);
    expect([one.status, other.status].sort()).toEqual([200, 202]);
    const accepted = (await one.json()) as { id: string };
    expect(await other.json()).toEqual(accepted);
    expect(accepted).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      replayed: 3,
      from: window.from.toISOString(),
      to: window.to.toISOString(),
    });
    expect(await events.queue.getWaitingCount()).toBe(3);

    // The same instants written another way are the same window.
    const offset = (date: Date) => date.toISOString().replace("Z", "+00:00");
    for (const body of [
      { from: window.from.toISOString(), to: window.to.toISOString() },
      { from: offset(window.from), to: offset(window.to) },
    ]) {
      const again = await replay(gateway, body);
      expect(again.status).toBe(200);
      expect(await again.json()).toEqual(accepted);
    }
    expect(await events.queue.getWaitingCount()).toBe(3);
  });

  it("answers 429 with Retry-After past the deployment's hourly replay limit and queues nothing", async () => {
    await events.stop();
    events = await startEventsHarness({
      prefix: fixture.prefix,
      redis: fixture.redis,
      deliver: false,
      replayLimitPerHour: 5,
    });
    gateway = gatewayOver(fixture, { events: events.publisher });
    const first = Date.now() - 120_000;
    const second = Date.now() - 60_000;
    for (let index = 0; index < 3; index += 1) {
      await recordAt(first);
      await recordAt(second);
    }
    const windowAround = (at: number) => ({
      from: new Date(at - 1000).toISOString(),
      to: new Date(at + 1000).toISOString(),
    });
    expect((await replay(gateway, windowAround(first))).status).toBe(202);

    const refused = await replay(gateway, windowAround(second));
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(3500);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    expect(await refused.json()).toEqual({
      error: {
        code: "TOO_MANY_REQUESTS",
        message:
          "Replays may queue 5 events an hour across the deployment (EVENTS_REPLAY_LIMIT_PER_HOUR); 3 were queued in the last hour and this range holds 3",
        requestId: expect.any(String),
      },
    });
    expect(await events.queue.getWaitingCount()).toBe(3);
  });

  it("answers 409 when events are off", async () => {
    const off = gatewayOver(fixture);
    const response = await replay(off, {
      from: "2026-11-26T08:00:00Z",
      to: "2026-11-26T09:00:00Z",
    });
    expect(response.status).toBe(409);
    expect(((await response.json()) as { error: { message: string } }).error.message).toBe(
      "Events to the backend are off: EVENTS_WEBHOOK_URL is not set",
    );
  });
});
