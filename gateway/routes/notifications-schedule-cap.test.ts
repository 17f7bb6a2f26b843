import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTestQueue } from "../../test/fixtures.js";
import {
  gatewayOver,
  ROTATED_API_KEY,
  TEST_API_KEY,
  type TestGateway,
  VALID_NOTIFICATION,
} from "../../test/gateway-fixture.js";

let gateway: TestGateway;
beforeEach(async () => {
  gateway = gatewayOver(await createTestQueue(), {
    limits: { perKeyPerMinute: 1200, authFailuresPerMinute: 20, maxScheduledPerKey: 3 },
  });
});
afterEach(async () => {
  await gateway.cleanup();
});

const scheduled = (minutes: number) => ({
  ...VALID_NOTIFICATION,
  sendAt: new Date(Date.now() + minutes * 60_000).toISOString(),
});

describe("scheduled notifications per key", () => {
  it("refuses one past the cap with 429 in the error shape, and takes one again once a place is free", async () => {
    const ids: string[] = [];
    for (const minutes of [30, 20, 40]) {
      const response = await gateway.post(scheduled(minutes));
      expect(response.status).toBe(202);
      ids.push(((await response.json()) as { id: string }).id);
    }
    const refused = await gateway.post(scheduled(50));
    expect(refused.status).toBe(429);
    // The earliest of the key's scheduled notifications is due in 20 minutes.
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(19 * 60);
    expect(Number(refused.headers.get("retry-after"))).toBeLessThanOrEqual(20 * 60);
    expect(await refused.json()).toEqual({
      error: {
        code: "TOO_MANY_REQUESTS",
        message:
          "This key has 3 scheduled notifications, the most it may hold; cancel some or schedule again once they are sent",
        requestId: refused.headers.get("x-request-id"),
      },
    });
    expect(await gateway.queue.getDelayedCount()).toBe(3);

    // Sending now is not scheduling; another key has its own cap.
    expect((await gateway.post(VALID_NOTIFICATION)).status).toBe(202);
    const other = await gateway.post(scheduled(50), { authorization: `Bearer ${ROTATED_API_KEY}` });
    expect(other.status).toBe(202);

    const cancelled = await gateway.app.request(`/notifications/${ids[0]}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${TEST_API_KEY}` },
    });
    expect(cancelled.status).toBe(200);
    expect((await gateway.post(scheduled(50))).status).toBe(202);
    expect((await gateway.post(scheduled(50))).status).toBe(429);
  });

  it("refuses the items of a batch past the cap, each with its error, and queues the rest", async () => {
    const response = await gateway.app.request("/notifications/batch", {
      method: "POST",
      headers: { authorization: `Bearer ${TEST_API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({
        notifications: [
          scheduled(10),
          scheduled(11),
          VALID_NOTIFICATION,
          scheduled(12),
          scheduled(13),
        ],
      }),
    });
    expect(response.status).toBe(202);
    const body = (await response.json()) as {
      accepted: number;
      rejected: number;
      results: Array<{ status: number; error?: { code: string } }>;
    };
    expect(body.accepted).toBe(4);
    expect(body.rejected).toBe(1);
    expect(
      body.results.filter((result) => result.error?.code === "TOO_MANY_REQUESTS"),
    ).toHaveLength(1);
    expect(await gateway.queue.getDelayedCount()).toBe(3);
  });
});
