import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { deliveryEventId } from "../contract/delivery-events.js";
import {
  type DeliveryHarness,
  startDeliveryHarness,
  TEST_RESEND_WEBHOOK_SECRET,
} from "../test/delivery-fixture.js";
import { svixHeaders } from "../test/fakes/resend.js";
import { createTestQueue, eventually } from "../test/fixtures.js";
import { gatewayOver } from "../test/gateway-fixture.js";

let delivery: DeliveryHarness;
beforeEach(async () => {
  delivery = await startDeliveryHarness();
});
afterEach(async () => {
  await delivery.stop();
});

/** A Resend event for an email, as JSON, as Resend writes it. */
function eventBody(type: string, emailId: string, data: Record<string, unknown> = {}): string {
  return JSON.stringify({
    type,
    created_at: new Date().toISOString(),
    data: {
      created_at: new Date().toISOString(),
      email_id: emailId,
      from: "Exchange <notifications@example.com>",
      to: ["user@example.com"],
      subject: "Trade executed",
      ...data,
    },
  });
}

/** Posts a body to /webhooks/resend with these headers; the answer's status and JSON. */
async function post(body: string, headers: Record<string, string>) {
  const response = await delivery.request("/webhooks/resend", { method: "POST", headers, body });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe("POST /webhooks/resend", () => {
  it("a delivered email ends delivered, and notification.delivered is published once", async () => {
    const id = await delivery.send({ phone: undefined });
    const status = await delivery.waitForDelivery(id, { email: "delivered" });
    // The event is published after the status moved, within the same webhook request.
    await delivery.resend.webhooksIdle();
    const emailId = status.channels.email.providerId ?? "";
    expect(status.channels.email.delivery).toMatchObject({
      status: "delivered",
      providerId: emailId,
    });
    expect(status.timeline?.map((entry) => [entry.source, entry.event])).toEqual(
      expect.arrayContaining([
        ["worker", "sent"],
        ["resend", "email.sent"],
        ["resend", "email.delivered"],
      ]),
    );
    const delivered = delivery.events.filter((event) => event.type === "notification.delivered");
    expect(delivered).toEqual([
      expect.objectContaining({
        id: deliveryEventId("notification.delivered", id, "email", emailId),
        data: expect.objectContaining({
          notificationId: id,
          channel: "email",
          providerId: emailId,
        }),
      }),
    ]);
  });

  it("a permanent bounce suppresses the address: the next notification to it makes no Resend call", async () => {
    const to = "bounced+first@resend.dev";
    const first = await delivery.send({ to, phone: undefined });
    const bounced = await delivery.waitForDelivery(first, { email: "bounced" });
    // The suppression follows the status, within the same webhook request.
    await delivery.resend.webhooksIdle();
    expect(bounced.channels.email.delivery?.code).toBe("Permanent:General");
    expect(delivery.events.map((event) => event.type)).toEqual(
      expect.arrayContaining(["notification.bounced", "recipient.suppressed"]),
    );
    const suppressedEvent = delivery.events.find((event) => event.type === "recipient.suppressed");
    expect(suppressedEvent?.data).toMatchObject({
      channel: "email",
      recipient: to,
      reason: "bounce",
    });

    const callsBefore = delivery.resend.calls.length;
    const second = await delivery.send({ to: "Bounced+First@resend.dev", phone: undefined });
    const skipped = await eventually(async () => {
      const status = await delivery.statusOf(second);
      expect(status.status).toBe("completed");
      return status;
    });
    expect(skipped.channels.email).toMatchObject({
      status: "suppressed",
      calls: 0,
      delivery: { status: "suppressed" },
    });
    expect(delivery.resend.calls.length).toBe(callsBefore);

    const gatewayMetrics = await (await delivery.metricsApp.request("/metrics")).text();
    expect(gatewayMetrics).toContain('notification_bounces_total{type="Permanent"} 1');
    expect(gatewayMetrics).toContain(
      'notification_suppressions_total{channel="email",reason="bounce"} 1',
    );
    const workerMetrics = await delivery.harness.metrics.registry.metrics();
    expect(workerMetrics).toContain('notification_suppressed_sends_total{channel="email"} 1');
  });

  it("a complaint suppresses the address after its delivery", async () => {
    const id = await delivery.send({ to: "complained@resend.dev", phone: undefined });
    const status = await delivery.waitForDelivery(id, { email: "complained" });
    await delivery.resend.webhooksIdle();
    expect(
      status.timeline?.filter((entry) => entry.source === "resend").map((entry) => entry.event),
    ).toEqual(["email.sent", "email.delivered", "email.complained"]);
    const metrics = await (await delivery.metricsApp.request("/metrics")).text();
    expect(metrics).toContain("notification_complaints_total 1");
    const list = await delivery.admin("/suppressions?channel=email");
    expect(await list.json()).toMatchObject({
      items: [
        {
          channel: "email",
          recipient: "complained@resend.dev",
          reason: "complaint",
          notificationId: id,
        },
      ],
    });
  });

  describe("changes nothing for", () => {
    async function deliveredEmail() {
      const id = await delivery.send({ phone: undefined });
      const status = await delivery.waitForDelivery(id, { email: "delivered" });
      await delivery.resend.webhooksIdle();
      return {
        id,
        emailId: status.channels.email.providerId ?? "",
        before: await delivery.statusOf(id),
      };
    }

    it("a forged, a tampered or an unsigned request: 401 with the error shape", async () => {
      const { id, emailId, before } = await deliveredEmail();
      const body = eventBody("email.bounced", emailId, {
        bounce: { type: "Permanent", subType: "General", message: "x" },
      });
      const forged = await post(
        body,
        svixHeaders(
          `whsec_${Buffer.from("not-the-secret-0123456789abcdef").toString("base64")}`,
          body,
        ),
      );
      expect(forged.status).toBe(401);
      expect(forged.body).toMatchObject({
        error: { code: "UNAUTHORIZED", message: "Invalid webhook signature" },
      });
      const signed = svixHeaders(TEST_RESEND_WEBHOOK_SECRET, eventBody("email.delivered", emailId));
      expect((await post(body, signed)).status).toBe(401);
      const unsigned = await post(body, { "content-type": "application/json" });
      expect(unsigned.status).toBe(401);
      expect(unsigned.body).toMatchObject({
        error: { code: "UNAUTHORIZED", requestId: expect.any(String) },
      });
      expect(await delivery.statusOf(id)).toEqual(before);
      const suppressions = (await (await delivery.admin("/suppressions")).json()) as {
        items: unknown[];
      };
      expect(suppressions.items).toEqual([]);
    });

    it("a stale request, signed more than 5 minutes ago", async () => {
      const { id, emailId, before } = await deliveredEmail();
      const body = eventBody("email.complained", emailId);
      const stale = await post(
        body,
        svixHeaders(TEST_RESEND_WEBHOOK_SECRET, body, {
          timestampSeconds: Math.floor(Date.now() / 1000) - 6 * 60,
        }),
      );
      expect(stale.status).toBe(401);
      expect(stale.body).toMatchObject({ error: { message: expect.stringMatching(/5 minutes/) } });
      expect(await delivery.statusOf(id)).toEqual(before);
    });

    it("a replayed request (same svix-id): acknowledged and ignored", async () => {
      const { id, before } = await deliveredEmail();
      const original = delivery.resend.webhooks.find(
        (webhook) => webhook.type === "email.delivered",
      );
      if (!original) throw new Error("no email.delivered webhook");
      const replayed = await delivery.resend.replayWebhook(original);
      expect(replayed.status).toBe(200);
      const again = await post(original.body, original.headers);
      expect(again.body).toEqual({ received: true, duplicate: true });
      expect(await delivery.statusOf(id)).toEqual(before);
    });

    it("the same event again under a new svix-id, and a late email.sent after delivered", async () => {
      const { id, emailId, before } = await deliveredEmail();
      const delivered = eventBody("email.delivered", emailId);
      expect(
        (await post(delivered, svixHeaders(TEST_RESEND_WEBHOOK_SECRET, delivered))).status,
      ).toBe(200);
      expect(await delivery.statusOf(id)).toEqual(before);
      const late = eventBody("email.sent", emailId);
      expect((await post(late, svixHeaders(TEST_RESEND_WEBHOOK_SECRET, late))).status).toBe(200);
      const after = await delivery.statusOf(id);
      expect(after.channels).toEqual(before.channels);
    });
  });

  it("acknowledges a complaint and a bounce for an email this deployment never sent, and suppresses nothing", async () => {
    for (const [type, data] of [
      ["email.complained", {}],
      ["email.bounced", { bounce: { type: "Permanent", subType: "General", message: "x" } }],
      ["email.suppressed", { suppressed: { type: "complaint", message: "x" } }],
    ] as const) {
      const body = eventBody(type, `re_never_sent_${type}`, {
        to: ["victim@example.com"],
        ...data,
      });
      const answer = await post(body, svixHeaders(TEST_RESEND_WEBHOOK_SECRET, body));
      expect(answer).toEqual({ status: 200, body: { received: true } });
    }
    const suppressions = (await (await delivery.admin("/suppressions")).json()) as {
      items: unknown[];
    };
    expect(suppressions.items).toEqual([]);
    expect(delivery.events).toEqual([]);
  });

  it("acknowledges events that say nothing about delivery (opens, clicks) and ignores them", async () => {
    const id = await delivery.send({ phone: undefined });
    const status = await delivery.waitForDelivery(id, { email: "delivered" });
    await delivery.resend.webhooksIdle();
    const before = await delivery.statusOf(id);
    const opened = await delivery.resend.emitEvent(
      status.channels.email.providerId ?? "",
      "email.opened",
    );
    expect(opened?.status).toBe(200);
    expect(await delivery.statusOf(id)).toEqual(before);
  });

  it("is a 404 when RESEND_WEBHOOK_SECRET is not set", async () => {
    const plain = gatewayOver(await createTestQueue());
    try {
      const body = eventBody("email.delivered", crypto.randomUUID());
      const response = await plain.app.request("/webhooks/resend", {
        method: "POST",
        headers: svixHeaders(TEST_RESEND_WEBHOOK_SECRET, body),
        body,
      });
      expect(response.status).toBe(404);
    } finally {
      await plain.cleanup();
    }
  });

  it("limits requests per client address", async () => {
    const limited = gatewayOver(await createTestQueue(), {
      webhooks: { resendSecret: TEST_RESEND_WEBHOOK_SECRET, perMinute: 2 },
      limits: { perKeyPerMinute: 0, authFailuresPerMinute: 20, clientIpHeader: "fly-client-ip" },
    });
    try {
      const attempt = (client: string) =>
        limited.app.request("/webhooks/resend", {
          method: "POST",
          headers: { "fly-client-ip": client, "content-type": "application/json" },
          body: "{}",
        });
      expect((await attempt("203.0.113.7")).status).toBe(401);
      expect((await attempt("203.0.113.7")).status).toBe(401);
      const third = await attempt("203.0.113.7");
      expect(third.status).toBe(429);
      expect(third.headers.get("retry-after")).toMatch(/^\d+$/);
      expect(await third.json()).toMatchObject({ error: { code: "TOO_MANY_REQUESTS" } });
      expect((await attempt("203.0.113.8")).status).toBe(401);
    } finally {
      await limited.cleanup();
    }
  });
});
