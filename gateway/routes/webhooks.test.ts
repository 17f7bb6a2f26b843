import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startDeliveryHarness, type DeliveryHarness } from "../../test/delivery-fixture.js";
import { eventually } from "../../test/fixtures.js";
import { VALID_NOTIFICATION } from "../../test/gateway-fixture.js";
import type { NotificationStatus } from "../notification-status.js";

let delivery: DeliveryHarness;
beforeEach(async () => {
  delivery = await startDeliveryHarness();
});
afterEach(async () => {
  await delivery.stop();
});

async function statusOf(id: string): Promise<NotificationStatus> {
  const response = await delivery.get(`/notifications/${id}`);
  expect(response.status).toBe(200);
  return (await response.json()) as NotificationStatus;
}

describe("final delivery status", () => {
  it("a delivered email and SMS end delivered", async () => {
    const response = await delivery.post({ ...VALID_NOTIFICATION, order: crypto.randomUUID() });
    const { id } = (await response.json()) as { id: string };
    const status = await eventually(async () => {
      const current = await statusOf(id);
      expect(current.channels.email.delivery?.status).toBe("delivered");
      expect(current.channels.sms.delivery?.status).toBe("delivered");
      return current;
    });
    console.log(JSON.stringify(status, null, 2));
  });
});
