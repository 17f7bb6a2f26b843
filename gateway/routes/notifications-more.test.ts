import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resendError } from "../../test/fakes/resend.js";
import { eventually } from "../../test/fixtures.js";
import {
  gatewayOver,
  TEST_API_KEY,
  type TestGateway,
  VALID_NOTIFICATION,
} from "../../test/gateway-fixture.js";
import { startWorkerHarness, type WorkerHarness } from "../../test/worker-fixture.js";

let harness: WorkerHarness;
let gateway: TestGateway;
beforeEach(async () => {
  // One job at a time, so the order of sends shows the order of the queue.
  harness = await startWorkerHarness({ concurrency: 1 });
  gateway = gatewayOver(harness);
});
afterEach(async () => {
  await harness.stop();
});

const auth = { authorization: `Bearer ${TEST_API_KEY}` };

function request(method: string, path: string, body?: unknown) {
  return gateway.app.request(path, {
    method,
    headers: { ...auth, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function json<T>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

type BatchBody = { accepted: number; rejected: number; results: Array<Record<string, unknown>> };

describe("POST /notifications/batch", () => {
  it("queues the valid items, rejects each invalid one with its error, and delivers each once", async () => {
    const response = await request("POST", "/notifications/batch", {
      notifications: [
        { ...VALID_NOTIFICATION, order: "batch-1" },
        { ...VALID_NOTIFICATION, to: "nope", order: "batch-2" },
        {
          to: "x@example.com",
          asset: "ETH",
          amount: 50,
          quantity: 0.1,
          order: "batch-3",
          idempotencyKey: "b-3",
        },
      ],
    });
    expect(response.status).toBe(202);
    const body = await json<BatchBody>(response);
    expect(body.accepted).toBe(2);
    expect(body.rejected).toBe(1);
    expect(body.results[0]).toMatchObject({ index: 0, status: "queued", id: expect.any(String) });
    expect(body.results[1]).toEqual({
      index: 1,
      status: "rejected",
      error: { code: "BAD_REQUEST", message: "to: Invalid email address" },
    });
    expect(body.results[2]).toMatchObject({ index: 2, status: "queued", id: expect.any(String) });
    await eventually(() =>
      expect(harness.resend.emails.map((email) => email.to).sort()).toEqual([
        "user@example.com",
        "x@example.com",
      ]),
    );
    expect(harness.twilio.messages).toHaveLength(1);
  });

  it("honours each item's idempotencyKey: a repeat gets the first id, another body a 422", async () => {
    const item = { ...VALID_NOTIFICATION, idempotencyKey: "fill-9" };
    const first = await json<BatchBody>(
      await request("POST", "/notifications/batch", { notifications: [item] }),
    );
    const again = await json<BatchBody>(
      await request("POST", "/notifications/batch", {
        notifications: [item, { ...item, amount: 5 }],
      }),
    );
    expect(again.results[0]).toEqual({
      index: 0,
      id: first.results[0]?.id,
      status: "queued",
      replayed: true,
    });
    expect(again.results[1]).toMatchObject({
      index: 1,
      status: "rejected",
      error: { code: "UNPROCESSABLE_ENTITY" },
    });
    // One job for the key, whatever the repeats: a second one would be a second email.
    expect(await gateway.jobCount()).toBe(1);
    await eventually(() => expect(harness.resend.emails).toHaveLength(1));
  });

  it.each([
    [
      "an empty list",
      { notifications: [] },
      "notifications: Too small: expected array to have >=1 items",
    ],
    [
      "more than 100 items",
      { notifications: Array(101).fill(VALID_NOTIFICATION) },
      "notifications: Too big: expected array to have <=100 items",
    ],
    ["no list", { items: [] }, 'notifications: is required; Unrecognized key: "items"'],
  ])("answers 400 for %s", async (_name, body, message) => {
    const response = await request("POST", "/notifications/batch", body);
    expect(response.status).toBe(400);
    expect((await json<{ error: { message: string } }>(response)).error.message).toBe(message);
  });
});

describe("scheduling and cancelling", () => {
  it("holds a notification with sendAt as delayed, and sends nothing once it is cancelled", async () => {
    const sendAt = new Date(Date.now() + 60 * 60 * 1000).toISOString();
    const created = await request("POST", "/notifications", { ...VALID_NOTIFICATION, sendAt });
    expect(created.status).toBe(202);
    const { id } = await json<{ id: string }>(created);
    const job = await harness.queue.getJob(id);
    expect(await job?.getState()).toBe("delayed");
    expect(job?.opts.delay).toBeGreaterThan(59 * 60 * 1000);
    expect(
      (await json<{ status: string }>(await request("GET", `/notifications/${id}`))).status,
    ).toBe("delayed");

    const cancelled = await request("DELETE", `/notifications/${id}`);
    expect(cancelled.status).toBe(200);
    expect(await cancelled.json()).toEqual({ id, status: "cancelled" });
    expect(await harness.queue.getJob(id)).toBeUndefined();
    expect(
      (await json<{ status: string }>(await request("GET", `/notifications/${id}`))).status,
    ).toBe("cancelled");
  });

  it("answers 409 to cancelling a notification already sent", async () => {
    const { id } = await json<{ id: string }>(
      await request("POST", "/notifications", VALID_NOTIFICATION),
    );
    await eventually(async () =>
      expect(await (await harness.queue.getJob(id))?.getState()).toBe("completed"),
    );
    const response = await request("DELETE", `/notifications/${id}`);
    expect(response.status).toBe(409);
    expect((await json<{ error: { message: string } }>(response)).error.message).toBe(
      "Only notifications not sent yet can be cancelled; this one is completed",
    );
  });

  it("answers 409 to cancelling a notification whose SMS went out while its email waits for Resend", async () => {
    harness.resend.script.failNext(resendError("daily_quota_exceeded"));
    const { id } = await json<{ id: string }>(
      await request("POST", "/notifications", VALID_NOTIFICATION),
    );
    await eventually(async () => {
      expect(harness.twilio.messages).toHaveLength(1);
      expect(await (await harness.queue.getJob(id))?.getState()).toBe("delayed");
    });
    const response = await request("DELETE", `/notifications/${id}`);
    expect(response.status).toBe(409);
    expect((await json<{ error: { message: string } }>(response)).error.message).toBe(
      "Only notifications not sent yet can be cancelled; this one's messages may already have been sent",
    );
    expect(await (await harness.queue.getJob(id))?.getState()).toBe("delayed");
  });

  it("answers 409 to cancelling a notification whose worker died during its SMS call", async () => {
    const { id } = await json<{ id: string }>(
      await request("POST", "/notifications", VALID_NOTIFICATION),
    );
    await harness.worker.pause();
    const job = await harness.queue.getJob(id);
    // What a worker that died mid-call leaves: the call recorded before it was made, no answer.
    await job?.updateProgress({
      email: { status: "pending", calls: 0 },
      sms: { status: "pending", calls: 0, inFlightSince: Date.now() },
    });
    const response = await request("DELETE", `/notifications/${id}`);
    expect(response.status).toBe(409);
    expect(await harness.queue.getJob(id)).toBeDefined();
  });

  it.each([
    [
      "in the past",
      new Date(Date.now() - 10 * 60 * 1000).toISOString(),
      "sendAt: must not be in the past",
    ],
    [
      "beyond 30 days",
      new Date(Date.now() + 31 * 24 * 3600 * 1000).toISOString(),
      "sendAt: must be at most 30 days ahead",
    ],
    ["not ISO 8601", "next tuesday", "sendAt: Invalid ISO datetime"],
  ])("answers 400 for a sendAt %s", async (_name, sendAt, message) => {
    const response = await request("POST", "/notifications", { ...VALID_NOTIFICATION, sendAt });
    expect(response.status).toBe(400);
    expect((await json<{ error: { message: string } }>(response)).error.message).toBe(message);
  });
});

describe("priority", () => {
  it("sends high before normal before low when all three wait", async () => {
    await harness.worker.pause();
    const { phone: _phone, ...emailOnly } = VALID_NOTIFICATION;
    for (const [priority, to] of [
      ["low", "low@example.com"],
      ["normal", "normal@example.com"],
      ["high", "high@example.com"],
    ] as const) {
      expect((await request("POST", "/notifications", { ...emailOnly, to, priority })).status).toBe(
        202,
      );
    }
    harness.worker.resume();
    await eventually(() => expect(harness.resend.emails).toHaveLength(3));
    expect(harness.resend.emails.map((email) => email.to)).toEqual([
      "high@example.com",
      "normal@example.com",
      "low@example.com",
    ]);
  });
});
