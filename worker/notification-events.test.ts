import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { deliveryEventId } from "../contract/delivery-events.js";
import { notificationJobOptions, TRADE_EXECUTED_JOB } from "../contract/notification-job.js";
import { acceptedWithId, type EventsHarness, startEventsHarness } from "../test/events-fixture.js";
import { resendError } from "../test/fakes/resend.js";
import { twilioError } from "../test/fakes/twilio.js";
import { eventually } from "../test/fixtures.js";
import { VALID_NOTIFICATION } from "../test/gateway-fixture.js";
import { startWorkerHarness, type WorkerHarness, waitForFinished } from "../test/worker-fixture.js";

let harness: WorkerHarness | undefined;
let events: EventsHarness | undefined;

afterEach(async () => {
  await events?.stop();
  await harness?.stop();
  events = undefined;
  harness = undefined;
});

/**
 * A worker harness whose worker publishes to an events harness under the same prefix. With
 * `failingPublishes`, that many publishes fail first, as when the events queue's Redis does
 * not answer; `refused` counts them.
 */
async function start(options: { timeoutMs?: number; failingPublishes?: number } = {}) {
  const { failingPublishes = 0, ...eventOptions } = options;
  // The worker harness makes the prefix the events harness needs: the worker gets a sink that
  // forwards to the publisher made next.
  let publish: EventsHarness["publisher"]["publish"] = async () => {};
  const refused: string[] = [];
  harness = await startWorkerHarness({
    events: {
      publish: async (event) => {
        if (refused.length < failingPublishes) {
          refused.push(event.id);
          throw new Error("Connection is closed.");
        }
        await publish(event);
      },
    },
  });
  events = await startEventsHarness({
    prefix: harness.prefix,
    redis: harness.redis,
    ...eventOptions,
  });
  publish = events.publisher.publish;
  return { harness, events, refused };
}

async function add(h: WorkerHarness, data: object, backoffDelayMs = 20) {
  const id = randomUUID();
  await h.queue.add(TRADE_EXECUTED_JOB, data, {
    ...notificationJobOptions({ attempts: 2, backoffDelayMs }),
    jobId: id,
  });
  return id;
}

describe("the worker's events", () => {
  it("reports notification.sent once per channel, with the provider's id", async () => {
    const { harness, events } = await start();
    const id = await add(harness, VALID_NOTIFICATION);
    const job = await eventually(async () => {
      const found = await harness.queue.getJob(id);
      expect(await found?.getState()).toBe("completed");
      return found;
    });
    const [email, sms] = [harness.resend.emails[0], harness.twilio.messages[0]];
    for (const [channel, providerId] of [
      ["email", email?.id],
      ["sms", sms?.sid],
    ] as const) {
      const eventId = deliveryEventId("notification.sent", id, String(job?.timestamp), channel);
      const [received] = await eventually(() => {
        const found = acceptedWithId(events.backend, eventId);
        expect(found).toHaveLength(1);
        return found;
      });
      expect(received?.event).toMatchObject({
        id: eventId,
        type: "notification.sent",
        data: { notificationId: id, channel, providerId },
      });
    }
    // Nothing else: no failure, no duplicate.
    await eventually(async () => expect(await events.queue.getCompletedCount()).toBe(2));
    expect(events.backend.received).toHaveLength(2);
  });

  it("reports notification.failed for the channel that failed for good, and the other one sent", async () => {
    const { harness, events } = await start();
    harness.resend.script.failNext(resendError("validation_error:invalid_to"));
    const id = await add(harness, VALID_NOTIFICATION);
    const job = await eventually(async () => {
      const found = await harness.queue.getJob(id);
      expect(await found?.getState()).toBe("failed");
      return found;
    });
    const failedId = deliveryEventId("notification.failed", id, String(job?.timestamp), "email");
    const sentId = deliveryEventId("notification.sent", id, String(job?.timestamp), "sms");
    await eventually(() => {
      expect(acceptedWithId(events.backend, failedId)).toHaveLength(1);
      expect(acceptedWithId(events.backend, sentId)).toHaveLength(1);
    });
    expect(acceptedWithId(events.backend, failedId)[0]?.event).toMatchObject({
      type: "notification.failed",
      data: { notificationId: id, channel: "email", code: "validation_error" },
    });
    expect(events.backend.received).toHaveLength(2);
  });

  it("reports a notification whose payload cannot be read as failed, without a channel", async () => {
    const { harness, events } = await start();
    const id = await add(harness, { to: "not an address" });
    const job = await waitForFinished(harness.queue, id);
    expect(await job.getState()).toBe("failed");
    const eventId = deliveryEventId("notification.failed", id, String(job.timestamp));
    const [received] = await eventually(() => {
      const found = acceptedWithId(events.backend, eventId);
      expect(found).toHaveLength(1);
      return found;
    });
    expect(received?.event).toMatchObject({
      type: "notification.failed",
      data: { notificationId: id, reason: job.failedReason },
    });
    expect(received?.event.data.channel).toBeUndefined();
    expect(harness.resend.calls).toHaveLength(0);
  });

  it("reports a channel sent in a try that goes on to retry, while the retry waits", async () => {
    const { harness, events } = await start();
    harness.twilio.script.failNext(twilioError(503, 20503, "Service Unavailable"));
    const id = await add(harness, VALID_NOTIFICATION, 1500);
    const job = await eventually(async () => {
      const found = await harness.queue.getJob(id);
      expect(await found?.getState()).toBe("delayed");
      return found;
    });
    const emailId = deliveryEventId("notification.sent", id, String(job?.timestamp), "email");
    await eventually(() => expect(acceptedWithId(events.backend, emailId)).toHaveLength(1));
    // Still waiting for its SMS retry: the email's event did not wait for the notification.
    expect(await job?.getState()).toBe("delayed");
    const smsId = deliveryEventId("notification.sent", id, String(job?.timestamp), "sms");
    await eventually(() => expect(acceptedWithId(events.backend, smsId)).toHaveLength(1));
    expect(acceptedWithId(events.backend, emailId)).toHaveLength(1);
    expect(events.backend.received).toHaveLength(2);
  });

  it("delivers notification.sent after its publish failed, without sending the channels again", async () => {
    // Both channels' first publishes fail.
    const { harness, events, refused } = await start({ failingPublishes: 2 });
    const id = await add(harness, VALID_NOTIFICATION);
    const job = await waitForFinished(harness.queue, id);
    expect(await job.getState()).toBe("completed");
    const ids = (["email", "sms"] as const).map((channel) =>
      deliveryEventId("notification.sent", id, String(job.timestamp), channel),
    );
    expect(refused.sort()).toEqual([...ids].sort());
    await eventually(() => {
      for (const eventId of ids) expect(acceptedWithId(events.backend, eventId)).toHaveLength(1);
    });
    expect(events.backend.received).toHaveLength(2);
    // The try that published them sent nothing: the job's report said both were sent.
    expect(harness.resend.calls).toHaveLength(1);
    expect(harness.twilio.calls).toHaveLength(1);
    expect(harness.twilio.lookups).toHaveLength(0);
    expect(harness.twilio.messages).toHaveLength(1);
    expect(job.returnvalue).toMatchObject({ email: { status: "sent" }, sms: { status: "sent" } });
  });

  it("delivers the events of a notification failed for good after their publish failed, calling no provider again", async () => {
    const { harness, events, refused } = await start({ failingPublishes: 2 });
    harness.resend.script.failNext(resendError("validation_error:invalid_to"));
    const id = await add(harness, VALID_NOTIFICATION);
    const job = await eventually(async () => {
      const found = await waitForFinished(harness.queue, id);
      expect(await found.getState()).toBe("failed");
      return found;
    });
    const failedId = deliveryEventId("notification.failed", id, String(job.timestamp), "email");
    const sentId = deliveryEventId("notification.sent", id, String(job.timestamp), "sms");
    expect(refused.sort()).toEqual([failedId, sentId].sort());
    await eventually(() => {
      expect(acceptedWithId(events.backend, failedId)).toHaveLength(1);
      expect(acceptedWithId(events.backend, sentId)).toHaveLength(1);
    });
    expect(events.backend.received).toHaveLength(2);
    expect(harness.resend.calls).toHaveLength(1);
    expect(harness.twilio.calls).toHaveLength(1);
    expect(harness.twilio.lookups).toHaveLength(0);
    expect(harness.twilio.messages).toHaveLength(1);
    // The same verdict as the try that failed it: the same reason in the job and the event.
    const failed = acceptedWithId(events.backend, failedId)[0]?.event.data;
    expect(failed).toMatchObject({
      notificationId: id,
      channel: "email",
      code: "validation_error",
    });
    expect(job.failedReason).toBe(`email validation_error: ${failed?.reason}`);
  });

  it("keeps sending notifications while the backend hangs", async () => {
    const { harness, events } = await start({ timeoutMs: 60_000 });
    events.backend.behaviour.hang = true;
    // Three notifications make six events: five POSTs hang (the delivery worker's concurrency).
    const first = await Promise.all([1, 2, 3].map(() => add(harness, VALID_NOTIFICATION)));
    await eventually(() => expect(events.backend.received).toHaveLength(5));
    const later = await Promise.all(
      Array.from({ length: 12 }, () => add(harness, VALID_NOTIFICATION)),
    );
    await eventually(async () => {
      const states = await Promise.all(
        [...first, ...later].map(async (id) => (await harness.queue.getJob(id))?.getState()),
      );
      expect(states.every((state) => state === "completed")).toBe(true);
    });
    expect(harness.resend.emails).toHaveLength(15);
    expect(harness.twilio.messages).toHaveLength(15);
    // The backend still has not answered one: every event is held up, no notification was.
    expect(events.backend.received).toHaveLength(5);
    expect(events.backend.accepted()).toHaveLength(0);
  });
});
