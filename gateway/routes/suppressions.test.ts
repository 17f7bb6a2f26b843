import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSuppressionList } from "../../delivery/suppressions.js";
import { createTestQueue } from "../../test/fixtures.js";
import { ADMIN_API_KEY, gatewayOver, type TestGateway } from "../../test/gateway-fixture.js";

let gateway: TestGateway;
let list: ReturnType<typeof createSuppressionList>;
beforeEach(async () => {
  gateway = gatewayOver(await createTestQueue());
  list = createSuppressionList({ redis: gateway.redis, keyPrefix: gateway.queue.qualifiedName });
});
afterEach(async () => {
  await gateway.cleanup();
});

const admin = { authorization: `Bearer ${ADMIN_API_KEY}` };
const entry = { reason: "bounce" as const, source: "resend", at: new Date(0).toISOString() };

describe("the suppression list's routes", () => {
  it("are for admin-scoped keys only: 401 without a key, 403 with another", async () => {
    expect((await gateway.app.request("/suppressions")).status).toBe(401);
    const listed = await gateway.get("/suppressions");
    expect(listed.status).toBe(403);
    expect(await listed.json()).toMatchObject({ error: { code: "FORBIDDEN" } });
    await list.add("email", "user@example.com", entry);
    const lifted = await gateway.app.request("/suppressions/email/user@example.com", {
      method: "DELETE",
      headers: { authorization: "Bearer test-key-0123456789abcdef" },
    });
    expect(lifted.status).toBe(403);
    expect(await list.check([{ channel: "email", recipient: "user@example.com" }])).toEqual([true]);
  });

  it("list every entry across pages, by channel when asked", async () => {
    for (let i = 0; i < 25; i++) await list.add("email", `user${i}@example.com`, entry);
    await list.add("sms", "+12025550143", {
      reason: "stop",
      source: "twilio",
      code: "STOP",
      at: entry.at,
    });
    const seen: Array<{ channel: string; recipient: string }> = [];
    let cursor: string | null = "0";
    for (let pages = 0; cursor !== null && pages < 50; pages++) {
      const response = await gateway.app.request(`/suppressions?limit=10&cursor=${cursor}`, {
        headers: admin,
      });
      expect(response.status).toBe(200);
      const page = (await response.json()) as {
        items: Array<{ channel: string; recipient: string }>;
        nextCursor: string | null;
      };
      seen.push(...page.items);
      cursor = page.nextCursor;
    }
    expect(seen).toHaveLength(26);
    const sms = await gateway.app.request("/suppressions?channel=sms&limit=500", {
      headers: admin,
    });
    expect(await sms.json()).toEqual({
      items: [
        {
          channel: "sms",
          recipient: "+12025550143",
          reason: "stop",
          source: "twilio",
          code: "STOP",
          suppressedAt: entry.at,
        },
      ],
      nextCursor: null,
    });
  });

  it("DELETE lifts a suppression (a number's + URL-encoded), and answers 404 for one not suppressed", async () => {
    await list.add("sms", "+12025550143", { ...entry, reason: "stop", source: "twilio" });
    await list.add("email", "user@example.com", entry);
    const sms = await gateway.app.request("/suppressions/sms/%2B12025550143", {
      method: "DELETE",
      headers: admin,
    });
    expect(sms.status).toBe(200);
    expect(await sms.json()).toEqual({
      channel: "sms",
      recipient: "+12025550143",
      status: "lifted",
    });
    const email = await gateway.app.request("/suppressions/email/User@Example.com", {
      method: "DELETE",
      headers: admin,
    });
    expect(await email.json()).toEqual({
      channel: "email",
      recipient: "user@example.com",
      status: "lifted",
    });
    const again = await gateway.app.request("/suppressions/email/user@example.com", {
      method: "DELETE",
      headers: admin,
    });
    expect(again.status).toBe(404);
    const bad = await gateway.app.request("/suppressions/fax/123", {
      method: "DELETE",
      headers: admin,
    });
    expect(bad.status).toBe(400);
  });
});
