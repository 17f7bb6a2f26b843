import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { NotificationStatus } from "../../gateway/notification-status.js";
import { twilioError } from "../../test/fakes/twilio.js";
import { eventually } from "../../test/fixtures.js";
import {
  ADMIN_API_KEY,
  createTestGateway,
  gatewayOver,
  TEST_API_KEY,
  type TestGateway,
  VALID_NOTIFICATION,
} from "../../test/gateway-fixture.js";
import { startWorkerHarness, waitForFinished } from "../../test/worker-fixture.js";
import { apiKeyId } from "../api-keys.js";

const as = (gateway: TestGateway, key: string, method: string, path: string) =>
  gateway.app.request(path, { method, headers: { authorization: `Bearer ${key}` } });

describe("a cancelled notification, within retention", () => {
  let gateway: TestGateway;
  beforeEach(async () => {
    gateway = await createTestGateway();
  });
  afterEach(async () => {
    await gateway.cleanup();
  });

  it("answers GET with 200 cancelled, when it was cancelled and by which key", async () => {
    const sendAt = new Date(Date.now() + 60 * 60 * 1000).toISOString();
    const created = await gateway.post({ ...VALID_NOTIFICATION, sendAt });
    const { id } = (await created.json()) as { id: string };
    const before = Date.now();
    const cancelled = await as(gateway, TEST_API_KEY, "DELETE", `/notifications/${id}`);
    expect(cancelled.status).toBe(200);
    const cancelRequestId = cancelled.headers.get("x-request-id");

    const response = await gateway.get(`/notifications/${id}`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as NotificationStatus;
    expect(body.status).toBe("cancelled");
    expect(body.cancelledBy).toBe(apiKeyId(TEST_API_KEY));
    expect(Date.parse(body.cancelledAt ?? "")).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(body.cancelledAt ?? "")).toBeLessThanOrEqual(Date.now());
    expect(body.channels.email.status).toBe("pending");
    expect(body.timeline?.map((entry) => entry.event)).toEqual(["accepted", "cancelled"]);
    expect(body.timeline?.[1]).toEqual({
      at: body.cancelledAt,
      source: "gateway",
      event: "cancelled",
      keyId: apiKeyId(TEST_API_KEY),
      requestId: cancelRequestId,
    });
    // Still its key's alone: another key's GET is a 404, an admin's a 200.
    expect((await as(gateway, ADMIN_API_KEY, "GET", `/notifications/${id}`)).status).toBe(200);
    expect(
      (await as(gateway, "rotated-key-0123456789abcdef", "GET", `/notifications/${id}`)).status,
    ).toBe(404);
  });

  it("begins its timeline with accepted: the time, the key's id, the request id and the Idempotency-Key", async () => {
    const created = await gateway.post(VALID_NOTIFICATION, { "idempotency-key": "fill-9" });
    expect(created.status).toBe(202);
    const { id } = (await created.json()) as { id: string };
    const body = (await (await gateway.get(`/notifications/${id}`)).json()) as NotificationStatus;
    expect(body.timeline).toEqual([
      {
        at: body.createdAt,
        source: "gateway",
        event: "accepted",
        keyId: apiKeyId(TEST_API_KEY),
        requestId: created.headers.get("x-request-id"),
        idempotencyKey: "fill-9",
      },
    ]);
  });
});

describe("a retried notification", () => {
  it("records the retry and the key that asked for it in the timeline", async () => {
    const harness = await startWorkerHarness();
    try {
      const gateway = gatewayOver(harness);
      harness.twilio.script.failNext(
        twilioError(400, 21612, "Twilio cannot route to this number."),
      );
      const { id } = (await (await gateway.post(VALID_NOTIFICATION)).json()) as { id: string };
      expect(await (await waitForFinished(harness.queue, id)).getState()).toBe("failed");
      const retry = await as(gateway, ADMIN_API_KEY, "POST", `/notifications/${id}/retry`);
      expect(retry.status).toBe(202);
      await eventually(async () => {
        const body = (await (
          await gateway.get(`/notifications/${id}`)
        ).json()) as NotificationStatus;
        expect(body.status).toBe("completed");
      });
      const body = (await (await gateway.get(`/notifications/${id}`)).json()) as NotificationStatus;
      const gatewayEntries = body.timeline?.filter((entry) => entry.source === "gateway");
      expect(
        gatewayEntries?.map(({ event, keyId, requestId }) => ({ event, keyId, requestId })),
      ).toEqual([
        { event: "accepted", keyId: apiKeyId(TEST_API_KEY), requestId: expect.any(String) },
        {
          event: "retried",
          keyId: apiKeyId(ADMIN_API_KEY),
          requestId: retry.headers.get("x-request-id"),
        },
      ]);
    } finally {
      await harness.stop();
    }
  });
});
