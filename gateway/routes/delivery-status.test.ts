import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type DeliveryHarness, startDeliveryHarness } from "../../test/delivery-fixture.js";
import { eventually } from "../../test/fixtures.js";
import { ADMIN_API_KEY, ROTATED_API_KEY } from "../../test/gateway-fixture.js";

let delivery: DeliveryHarness;
beforeEach(async () => {
  delivery = await startDeliveryHarness();
});
afterEach(async () => {
  await delivery.stop();
});

describe("a notification's status outlives its BullMQ job", () => {
  it("GET /notifications/{id} answers from the delivery record once the job is removed", async () => {
    const id = await delivery.send();
    await delivery.waitForDelivery(id, { email: "delivered", sms: "delivered" });
    await delivery.resend.webhooksIdle();
    await delivery.twilio.callbacksIdle();
    const withJob = await delivery.statusOf(id);

    await (await delivery.queue.getJob(id))?.remove();
    expect(await delivery.queue.getJob(id)).toBeUndefined();

    const withoutJob = await delivery.statusOf(id);
    expect(withoutJob).toEqual({ ...withJob, finishedAt: expect.any(String) });
    expect(withoutJob).toMatchObject({
      id,
      status: "completed",
      attemptsMade: 1,
      channels: {
        email: { status: "sent", calls: 1, delivery: { status: "delivered" } },
        sms: { status: "sent", calls: 1, delivery: { status: "delivered" } },
      },
    });
    // The same ownership rule: another key's notification is unknown to it; admin keys see all.
    const other = await delivery.get(`/notifications/${id}`, {
      authorization: `Bearer ${ROTATED_API_KEY}`,
    });
    expect(other.status).toBe(404);
    expect((await delivery.statusOf(id, ADMIN_API_KEY)).id).toBe(id);
    expect((await delivery.get(`/notifications/${crypto.randomUUID()}`)).status).toBe(404);
    // A late provider event still lands on the record (a complaint days later).
    await delivery.resend.emitEvent(withJob.channels.email.providerId ?? "", "email.complained");
    expect((await delivery.statusOf(id)).channels.email.delivery?.status).toBe("complained");
  });

  it("keeps a failed notification's outcome and reason", async () => {
    delivery.twilio.optOut("+12025550143");
    const id = await delivery.send({ to: undefined });
    const failed = await eventually(async () => {
      const status = await delivery.statusOf(id);
      expect(status.status).toBe("failed");
      return status;
    });
    await (await delivery.queue.getJob(id))?.remove();
    const kept = await delivery.statusOf(id);
    expect(kept).toMatchObject({
      status: "failed",
      failedReason: failed.failedReason,
      channels: { sms: { status: "failed", delivery: { status: "failed", code: "21610" } } },
    });
  });
});
