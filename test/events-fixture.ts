import { Registry } from "prom-client";
import type { DeliveryEvent } from "../contract/delivery-events.js";
import { deliveryEventId } from "../contract/delivery-events.js";
import { DELIVERY_EVENTS_QUEUE } from "../contract/delivery-events-queue.js";
import { openEventPublisher } from "../delivery/events/publisher.js";
import type { RedisConnection } from "../lib/redis.js";
import { createEventDeliveryWorker } from "../worker/event-delivery.js";
import { type FakeEventsBackend, startFakeEventsBackend } from "./fakes/events-backend.js";
import { testLogger, workerRedis } from "./fixtures.js";

/** A short schedule for tests: the real one waits hours. */
export const TEST_RETRY_SCHEDULE_MS = [50, 100, 200, 400, 800];

/**
 * The events queue under `prefix`, its publisher, the fake backend and a real delivery worker
 * (unless `deliver: false`), on a connection of its own.
 */
export async function startEventsHarness(options: {
  prefix: string;
  redis: RedisConnection;
  retryScheduleMs?: number[];
  timeoutMs?: number;
  retentionDays?: number;
  deliver?: boolean;
  /** Events replays may queue per hour across the deployment (EVENTS_REPLAY_LIMIT_PER_HOUR). */
  replayLimitPerHour?: number;
}) {
  const backend = await startFakeEventsBackend();
  const { publisher, queue } = openEventPublisher({
    connection: options.redis,
    prefix: options.prefix,
    retentionDays: options.retentionDays ?? 30,
    ...(options.replayLimitPerHour === undefined
      ? {}
      : { replayLimitPerHour: options.replayLimitPerHour }),
  });
  const connection = workerRedis();
  const registry = new Registry();
  const worker =
    options.deliver === false
      ? undefined
      : createEventDeliveryWorker({
          connection,
          prefix: options.prefix,
          url: backend.url,
          secret: backend.secret,
          retryScheduleMs: options.retryScheduleMs ?? TEST_RETRY_SCHEDULE_MS,
          timeoutMs: options.timeoutMs ?? 2000,
          concurrency: 5,
          stalledIntervalMs: 30_000,
          drainDelaySeconds: 5,
          logger: testLogger(),
          registry,
        });
  return {
    backend,
    publisher,
    queue,
    worker,
    /** The delivery worker's metrics. */
    registry,
    async stop() {
      // The backend first: a hanging POST it drops ends at once, so the worker can close.
      await backend.close();
      await worker?.close();
      await queue.obliterate({ force: true });
      await queue.close();
      const base = `${options.prefix}:${DELIVERY_EVENTS_QUEUE}:event-log`;
      const replays = await options.redis.keys(`${base}:replay*`);
      await options.redis.del(`${base}:events`, `${base}:log`, `${base}:queued`, ...replays);
      await connection.quit();
    },
  };
}

export type EventsHarness = Awaited<ReturnType<typeof startEventsHarness>>;

/** A bounce event as part A's webhooks publish one. */
export function bounceEvent(notificationId: string, occurredAt = new Date()): DeliveryEvent {
  return {
    id: deliveryEventId("notification.bounced", notificationId, "email"),
    type: "notification.bounced",
    occurredAt: occurredAt.toISOString(),
    data: { notificationId, channel: "email", code: "Permanent", providerId: "re_123" },
  };
}

/** The backend's accepted events with this id. */
export function acceptedWithId(backend: FakeEventsBackend, id: string) {
  return backend.accepted().filter((entry) => entry.webhookId === id);
}
