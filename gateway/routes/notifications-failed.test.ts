import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { twilioError } from "../../test/fakes/twilio.js";
import { eventually } from "../../test/fixtures.js";
import {
  gatewayOver,
  TEST_API_KEY,
  type TestGateway,
  VALID_NOTIFICATION,
} from "../../test/gateway-fixture.js";
import {
  startWorkerHarness,
  type WorkerHarness,
  waitForFinished,
} from "../../test/worker-fixture.js";
import type { NotificationStatus } from "../notification-status.js";

let harness: WorkerHarness;
let gateway: TestGateway;
beforeEach(async () => {
  harness = await startWorkerHarness();
  gateway = gatewayOver(harness);
});
afterEach(async () => {
  await harness.stop();
});

async function send(body: object = VALID_NOTIFICATION, headers: Record<string, string> = {}) {
  const response = await gateway.post(body, headers);
  expect(response.status).toBe(202);
  return ((await response.json()) as { id: string }).id;
}

describe("a notification sent twice with one Idempotency-Key", () => {
  it("is delivered once: one email, one SMS", async () => {
    const first = await send(VALID_NOTIFICATION, { "idempotency-key": "fill-1" });
    await waitForFinished(harness.queue, first);
    const second = await send(VALID_NOTIFICATION, { "idempotency-key": "fill-1" });
    expect(second).toBe(first);
    // One job in the queue: a repeat that queued a second one would send twice once it ran.
    expect(await gateway.jobCount()).toBe(1);
    expect(harness.resend.emails).toHaveLength(1);
    expect(harness.twilio.messages).toHaveLength(1);
  });
});

describe("failed notifications", () => {
  it("are listed, newest first, with each channel's error", async () => {
    harness.twilio.script.failWith = () => twilioError(400, 21211, "Invalid 'To' Phone Number");
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const id = await send({ ...VALID_NOTIFICATION, order: `order-${i}` });
      await waitForFinished(harness.queue, id);
      ids.push(id);
    }
    // Finished and completed before the list is read, so the list's total can tell it apart.
    const succeeded = await send({ ...VALID_NOTIFICATION, phone: undefined });
    expect(await (await waitForFinished(harness.queue, succeeded)).getState()).toBe("completed");

    const page1 = await gateway.get("/notifications?state=failed&pageSize=2");
    expect(page1.status).toBe(200);
    const body1 = (await page1.json()) as {
      items: NotificationStatus[];
      nextCursor: string | null;
    };
    expect(body1.items.map((item) => item.id)).toEqual([ids[2], ids[1]]);
    expect(body1.items[0]).toMatchObject({
      status: "failed",
      failedReason: "sms 21211: Invalid 'To' Phone Number",
      channels: {
        email: { status: "sent" },
        sms: { status: "failed", error: { code: "21211", permanent: true } },
      },
    });
    const page2 = (await (
      await gateway.get(`/notifications?state=failed&pageSize=2&cursor=${body1.nextCursor}`)
    ).json()) as {
      items: NotificationStatus[];
      nextCursor: string | null;
    };
    expect(page2.items.map((item) => item.id)).toEqual([ids[0]]);
    expect(page2.nextCursor).toBeNull();
  });

  it("answers 400 for an unknown state", async () => {
    const response = await gateway.get("/notifications?state=lost");
    expect(response.status).toBe(400);
  });

  it("are retried on request, sending only the channel that failed", async () => {
    harness.twilio.script.failNext(twilioError(400, 21612, "Twilio cannot route to this number."));
    const id = await send();
    const failed = await waitForFinished(harness.queue, id);
    expect(await failed.getState()).toBe("failed");
    expect(harness.resend.emails).toHaveLength(1);

    const retry = await gateway.app.request(`/notifications/${id}/retry`, {
      method: "POST",
      headers: { authorization: `Bearer ${TEST_API_KEY}` },
    });
    expect(retry.status).toBe(202);
    expect(await retry.json()).toEqual({ id, status: "queued" });

    await eventually(async () => {
      const status = (await (
        await gateway.get(`/notifications/${id}`)
      ).json()) as NotificationStatus;
      expect(status.status).toBe("completed");
    });
    expect(harness.resend.calls).toHaveLength(1);
    expect(harness.twilio.calls).toHaveLength(2);
    expect(harness.twilio.messages).toHaveLength(1);
  });

  it("answers 409 to a retry of a notification that has not failed", async () => {
    const id = await send();
    await waitForFinished(harness.queue, id);
    const retry = await gateway.app.request(`/notifications/${id}/retry`, {
      method: "POST",
      headers: { authorization: `Bearer ${TEST_API_KEY}` },
    });
    expect(retry.status).toBe(409);
    const body = (await retry.json()) as { error: { message: string } };
    expect(body.error.message).toBe(
      "Only failed notifications can be retried; this one is completed",
    );
  });
});
