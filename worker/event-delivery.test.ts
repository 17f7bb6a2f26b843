import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseEnv } from "../lib/env.js";
import {
  acceptedWithId,
  bounceEvent,
  type EventsHarness,
  startEventsHarness,
} from "../test/events-fixture.js";
import { createTestQueue, eventually } from "../test/fixtures.js";
import { workerEnvSchema } from "./env.js";
import { eventRetryDelay } from "./event-delivery.js";

describe("the events queue", () => {
  let fixture: Awaited<ReturnType<typeof createTestQueue>>;
  let events: EventsHarness;
  beforeEach(async () => {
    fixture = await createTestQueue();
    events = await startEventsHarness({ prefix: fixture.prefix, redis: fixture.redis });
  });
  afterEach(async () => {
    await events.stop();
    await fixture.cleanup();
  });

  it("delivers an event published twice once, signed, with its id as webhook-id", async () => {
    const event = bounceEvent(randomUUID());
    await events.publisher.publish(event);
    await events.publisher.publish({ ...event, occurredAt: new Date(0).toISOString() });
    await eventually(() => expect(acceptedWithId(events.backend, event.id)).toHaveLength(1));
    // Published again after its job is gone (trimmed after an hour): the log still knows it.
    await eventually(async () => expect(await events.queue.getCompletedCount()).toBe(1));
    await (await events.queue.getJob(event.id))?.remove();
    await events.publisher.publish(event);
    expect(await events.queue.getJobCounts()).toMatchObject({
      waiting: 0,
      delayed: 0,
      active: 0,
      completed: 0,
    });
    expect(events.backend.received).toHaveLength(1);
    const [received] = events.backend.received;
    expect(received?.verified).toBe(true);
    expect(received?.signature).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(Math.abs(Number(received?.timestamp) - Date.now() / 1000)).toBeLessThan(10);
    // The first version published is the one delivered.
    expect(received?.event).toEqual(event);
  });

  it("retries a backend answering 503 on the schedule, with the same id, until it accepts", async () => {
    events.backend.behaviour.status = 503;
    const event = bounceEvent(randomUUID());
    await events.publisher.publish(event);
    await eventually(() => expect(events.backend.received.length).toBeGreaterThanOrEqual(3));
    events.backend.behaviour.status = 200;
    await eventually(() => expect(acceptedWithId(events.backend, event.id)).toHaveLength(1));
    const tries = events.backend.received;
    expect(new Set(tries.map((entry) => entry.webhookId))).toEqual(new Set([event.id]));
    expect(tries.every((entry) => entry.verified)).toBe(true);
    expect(tries.filter((entry) => entry.answered === 503).length).toBe(tries.length - 1);
    const counted = await eventually(async () => {
      const metric = await events.registry.getSingleMetricAsString("notification_events_total");
      expect(metric).toContain('notification_events_total{outcome="delivered"} 1');
      return metric;
    });
    expect(counted).toContain(`notification_events_total{outcome="retrying"} ${tries.length - 1}`);
    // The waits follow the schedule: 50 ms, then 100 ms, then 200 ms.
    const gaps = tries.slice(1, 3).map((entry, index) => entry.at - (tries[index]?.at ?? 0));
    expect(gaps[0]).toBeGreaterThanOrEqual(45);
    expect(gaps[1]).toBeGreaterThanOrEqual(95);
  });

  it("delivers once to a backend that refused connections for a while and came back", async () => {
    await events.backend.goDown();
    const event = bounceEvent(randomUUID());
    await events.publisher.publish(event);
    // Two tries fail on a refused connection (nothing reaches the backend), then it is back.
    await eventually(async () => {
      const job = await events.queue.getJob(event.id);
      expect(job?.attemptsMade).toBeGreaterThanOrEqual(2);
      expect(job?.failedReason).toMatch(/POST failed/);
    });
    await events.backend.comeBack();
    await eventually(() => expect(acceptedWithId(events.backend, event.id)).toHaveLength(1));
    expect(events.backend.received).toHaveLength(1);
  });

  it("gives a hanging backend's try up after the timeout and tries again", async () => {
    await events.stop();
    events = await startEventsHarness({
      prefix: fixture.prefix,
      redis: fixture.redis,
      timeoutMs: 300,
    });
    events.backend.behaviour.hang = true;
    const event = bounceEvent(randomUUID());
    await events.publisher.publish(event);
    await eventually(async () => {
      const job = await events.queue.getJob(event.id);
      expect(job?.failedReason).toMatch(/POST timed out/);
    });
    events.backend.behaviour.hang = false;
    await eventually(() => expect(acceptedWithId(events.backend, event.id)).toHaveLength(1));
  });

  it("counts a redirect as a failed try and does not follow it", async () => {
    events.backend.behaviour.status = 307;
    const event = bounceEvent(randomUUID());
    await events.publisher.publish(event);
    await eventually(async () => {
      const job = await events.queue.getJob(event.id);
      expect(job?.failedReason).toBe("backend answered 307");
    });
    events.backend.behaviour.status = 204;
    await eventually(() => expect(acceptedWithId(events.backend, event.id)).toHaveLength(1));
  });

  it("gives an event up when the schedule runs out, keeping the job failed", async () => {
    events.backend.behaviour.status = 500;
    const event = bounceEvent(randomUUID());
    await events.publisher.publish(event);
    const job = await eventually(async () => {
      const found = await events.queue.getJob(event.id);
      expect(found?.finishedOn).toBeDefined();
      return found;
    });
    expect(await job?.getState()).toBe("failed");
    // The first try and one per wait of the schedule (5 waits).
    expect(events.backend.received).toHaveLength(6);
    await eventually(async () => {
      const metric = await events.registry.getSingleMetricAsString("notification_events_total");
      expect(metric).toContain('notification_events_total{outcome="retrying"} 5');
      expect(metric).toContain('notification_events_total{outcome="given_up"} 1');
    });
  });
});

describe("the retry schedule", () => {
  it("is Svix's by default: immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h", () => {
    const env = parseEnv(workerEnvSchema, { REDIS_URL: "redis://127.0.0.1:6379" });
    const waits = [1, 2, 3, 4, 5, 6, 7, 8].map((made) =>
      eventRetryDelay(env.EVENTS_RETRY_SCHEDULE_MS, made),
    );
    const s = 1000;
    expect(waits).toEqual([
      5 * s,
      300 * s,
      1800 * s,
      7200 * s,
      18_000 * s,
      36_000 * s,
      36_000 * s,
      -1,
    ]);
  });
});
