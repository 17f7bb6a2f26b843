import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { bounceEvent } from "../../test/events-fixture.js";
import { createTestQueue } from "../../test/fixtures.js";
import { createEventLog, type EventLog } from "./event-log.js";

const DAY = 24 * 60 * 60 * 1000;

describe("the event log", () => {
  let fixture: Awaited<ReturnType<typeof createTestQueue>>;
  let log: EventLog;
  let keyPrefix: string;
  beforeEach(async () => {
    fixture = await createTestQueue();
    keyPrefix = `${fixture.prefix}:notification-events`;
    log = createEventLog(fixture.redis, keyPrefix, 30);
  });
  afterEach(async () => {
    const keys = await fixture.redis.keys(`${keyPrefix}:event-log:*`);
    if (keys.length > 0) await fixture.redis.del(...keys);
    await fixture.cleanup();
  });

  it("hands an event out for queueing until its job is marked queued, always as first recorded", async () => {
    const event = bounceEvent(randomUUID());
    expect(await log.record(event)).toBe(JSON.stringify(event));
    // Not marked queued (the publisher died before adding the job): handed out again, unchanged.
    const later = { ...event, occurredAt: new Date(0).toISOString() };
    expect(await log.record(later)).toBe(JSON.stringify(event));
    await log.markQueued(event.id);
    expect(await log.record(event)).toBeUndefined();
  });

  it("selects events by the time they were recorded, oldest first", async () => {
    const now = Date.now();
    const [a, b, c] = [1, 2, 3].map(() => bounceEvent(randomUUID()));
    if (!a || !b || !c) throw new Error("three events");
    await log.record(a, now - 3000);
    await log.record(b, now - 2000);
    await log.record(c, now - 1000);
    expect(await log.range(now - 2500, now, 10)).toEqual([b, c]);
    expect(await log.range(now - 2000, now - 2000, 10)).toEqual([b]);
    expect(await log.range(now - 5000, now, 2)).toEqual([a, b]);
  });

  it("forgets events older than the retention as new ones are recorded", async () => {
    const now = Date.now();
    const old = bounceEvent(randomUUID());
    await log.record(old, now - 31 * DAY);
    await log.markQueued(old.id);
    const fresh = bounceEvent(randomUUID());
    await log.record(fresh, now);
    expect(await log.range(0, now, 10)).toEqual([fresh]);
    expect(await fixture.redis.hlen(`${keyPrefix}:event-log:events`)).toBe(1);
    expect(await fixture.redis.zscore(`${keyPrefix}:event-log:queued`, old.id)).toBeNull();
  });
});
