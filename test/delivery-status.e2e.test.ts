import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NotificationStatus } from "../gateway/notification-status.js";
import { freePort } from "../scripts/redis-server.js";
import { TEST_RESEND_WEBHOOK_SECRET } from "./delivery-fixture.js";
import { type FakeEventsBackend, startFakeEventsBackend } from "./fakes/events-backend.js";
import { type FakeResend, startFakeResend, svixHeaders } from "./fakes/resend.js";
import { type FakeTwilio, startFakeTwilio } from "./fakes/twilio.js";
import { createTestQueue, eventually, redisUrl } from "./fixtures.js";
import {
  ADMIN_API_KEY,
  postNotification,
  TEST_API_KEY,
  VALID_NOTIFICATION,
} from "./gateway-fixture.js";
import { type ServiceProcess, startService, waitForGatewayReady } from "./support/processes.js";
import { providerEnv } from "./worker-fixture.js";

/*
 * Final delivery status through real processes: a gateway and a worker started from source, the
 * fake Resend posting Svix-signed events to the gateway's /webhooks/resend, the fake Twilio
 * posting signed status callbacks to the StatusCallback the worker sends (PUBLIC_URL +
 * /webhooks/twilio) and a customer's STOP and START to /webhooks/twilio/inbound; the events
 * reach a fake backend, signed, as docs/events.md says.
 */
describe("delivery status and suppression through real gateway and worker processes", () => {
  let resend: FakeResend;
  let twilio: FakeTwilio;
  let fixture: Awaited<ReturnType<typeof createTestQueue>>;
  let backend: FakeEventsBackend;
  let gateway: ServiceProcess;
  let worker: ServiceProcess;
  let baseUrl: string;

  beforeAll(async () => {
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    resend = await startFakeResend({
      webhook: { url: `${baseUrl}/webhooks/resend`, secret: TEST_RESEND_WEBHOOK_SECRET },
    });
    twilio = await startFakeTwilio({
      deliveryDelayMs: 5,
      inboundUrl: `${baseUrl}/webhooks/twilio/inbound`,
    });
    fixture = await createTestQueue();
    backend = await startFakeEventsBackend();
    const shared = {
      REDIS_URL: redisUrl(),
      QUEUE_PREFIX: fixture.prefix,
      LOG_LEVEL: "info",
      PUBLIC_URL: baseUrl,
      DELIVERY_STATUS_RETENTION_DAYS: "2",
      EVENTS_WEBHOOK_URL: backend.url,
      EVENTS_WEBHOOK_SECRET: backend.secret,
    };
    gateway = startService("gateway", {
      ...shared,
      PORT: String(port),
      API_KEYS: `${TEST_API_KEY},admin:${ADMIN_API_KEY}`,
      RESEND_WEBHOOK_SECRET: TEST_RESEND_WEBHOOK_SECRET,
      TWILIO_AUTH_TOKEN: twilio.authToken,
    });
    worker = startService("worker", {
      ...shared,
      ...providerEnv(resend, twilio),
      EVENTS_RETRY_SCHEDULE_MS: "100,200,400",
    });
    await waitForGatewayReady(gateway, port);
    await worker.waitForLine(/worker ready/);
  });

  afterAll(async () => {
    await Promise.all([gateway?.stop("SIGKILL"), worker?.stop("SIGKILL")]);
    await Promise.all([resend?.close(), twilio?.close(), backend?.close(), fixture?.cleanup()]);
  });

  async function send(fields: Record<string, unknown>): Promise<string> {
    const response = await postNotification(baseUrl, {
      ...VALID_NOTIFICATION,
      order: crypto.randomUUID(),
      ...fields,
    });
    expect(response.status).toBe(202);
    return ((await response.json()) as { id: string }).id;
  }

  async function statusOf(id: string): Promise<NotificationStatus> {
    const response = await fetch(`${baseUrl}/notifications/${id}`, {
      headers: { authorization: `Bearer ${TEST_API_KEY}` },
    });
    expect(response.status).toBe(200);
    return (await response.json()) as NotificationStatus;
  }

  function until(id: string, check: (status: NotificationStatus) => void) {
    return eventually(async () => {
      const status = await statusOf(id);
      check(status);
      return status;
    });
  }

  it("suppresses the address when the bounce arrives before the worker recorded the email", async () => {
    // Resend posts its events as it accepts the email and answers 400 ms later: the bounce is
    // early, and waits for the worker's record of the email.
    resend.state.latencyMs = 400;
    try {
      const to = "bounced+early@resend.dev";
      const first = await send({ to });
      await until(first, (current) => {
        expect(current.channels.email.delivery?.status).toBe("bounced");
      });
      const second = await send({ to });
      await until(second, (current) => {
        expect(current.status).toBe("completed");
        expect(current.channels.email).toMatchObject({ status: "suppressed", calls: 0 });
      });
    } finally {
      resend.state.latencyMs = 0;
    }
  });

  it("ends a delivered SMS delivered and a bounced email bounced; the next email to that address is not sent", async () => {
    const to = "bounced+e2e@resend.dev";
    const first = await send({ to });
    const status = await until(first, (current) => {
      expect(current.channels.email.delivery?.status).toBe("bounced");
      expect(current.channels.sms.delivery?.status).toBe("delivered");
    });
    expect(
      twilio.callbacks.every((callback) => callback.url === `${baseUrl}/webhooks/twilio`),
    ).toBe(true);
    expect(status.channels.email.delivery?.code).toBe("Permanent:General");
    // The suppression follows the status, within the same webhook request.
    await resend.webhooksIdle();

    const resendCalls = resend.calls.length;
    const second = await send({ to });
    await until(second, (current) => {
      expect(current.status).toBe("completed");
      expect(current.channels.email).toMatchObject({ status: "suppressed", calls: 0 });
      expect(current.channels.sms.delivery?.status).toBe("delivered");
    });
    expect(resend.calls.length).toBe(resendCalls);

    // The backend got the bounce, the suppression and the SMS's delivery, signed, once per id.
    await eventually(() => {
      const accepted = backend.accepted().filter((entry) => entry.verified);
      const of = (type: string) => accepted.filter((entry) => entry.event.type === type);
      const bounced = of("notification.bounced").filter(
        (entry) => entry.event.data.notificationId === first,
      );
      expect(bounced.map((entry) => entry.event.data)).toEqual([
        expect.objectContaining({
          notificationId: first,
          channel: "email",
          code: "Permanent:General",
        }),
      ]);
      expect(of("recipient.suppressed").map((entry) => entry.event.data)).toContainEqual(
        expect.objectContaining({ channel: "email", recipient: to, reason: "bounce" }),
      );
      expect(
        of("notification.delivered").filter((entry) => entry.event.data.notificationId === first),
      ).toHaveLength(1);
      const ids = accepted.map((entry) => entry.webhookId);
      expect(new Set(ids).size).toBe(ids.length);
    });
    // Log lines reach stdout up to 100 ms late (lib/logger.ts), each process's in order: wait for
    // the last line each one writes about this test before looking for an address in them.
    await worker.waitForLine(/recipient suppressed: channel not sent/);
    await worker.waitForLine(
      new RegExp(`"notificationId":"${second}".*"msg":"notification delivered"`),
    );
    await fetch(`${baseUrl}/healthz`);
    await gateway.waitForLine(/"route":"\/healthz"/);
    expect(worker.lines.join("\n")).not.toContain(to);
    expect(gateway.lines.join("\n")).not.toContain(to);
  });

  it("STOP then START for a number", async () => {
    // A number of its own: the other tests send to the seed payload's, in any order.
    const phone = "+12025550166";
    expect((await twilio.receiveSms(phone, "STOP")).status).toBe(200);
    const twilioCalls = twilio.calls.length;
    const stopped = await send({ to: undefined, phone });
    await until(stopped, (current) => {
      expect(current.channels.sms).toMatchObject({ status: "suppressed", calls: 0 });
    });
    expect(twilio.calls.length).toBe(twilioCalls);

    const listed = await fetch(`${baseUrl}/suppressions?channel=sms`, {
      headers: { authorization: `Bearer ${ADMIN_API_KEY}` },
    });
    expect(await listed.json()).toMatchObject({ items: [{ recipient: phone, reason: "stop" }] });

    expect((await twilio.receiveSms(phone, "START")).status).toBe(200);
    const started = await send({ to: undefined, phone });
    await until(started, (current) =>
      expect(current.channels.sms.delivery?.status).toBe("delivered"),
    );
    expect(twilio.calls.length).toBe(twilioCalls + 1);
  });

  it("refuses a forged webhook, and answers from the record once the job is removed", async () => {
    const id = await send({});
    const delivered = await until(id, (current) => {
      expect(current.channels.email.delivery?.status).toBe("delivered");
      expect(current.channels.sms.delivery?.status).toBe("delivered");
    });
    const body = JSON.stringify({
      type: "email.bounced",
      created_at: new Date().toISOString(),
      data: {
        email_id: delivered.channels.email.providerId,
        to: ["user@example.com"],
        bounce: { type: "Permanent" },
      },
    });
    const forged = await fetch(`${baseUrl}/webhooks/resend`, {
      method: "POST",
      headers: svixHeaders(
        `whsec_${Buffer.from("a-forger-does-not-know-it-0123").toString("base64")}`,
        body,
      ),
      body,
    });
    expect(forged.status).toBe(401);

    await resend.webhooksIdle();
    await twilio.callbacksIdle();
    await (await fixture.queue.getJob(id))?.remove();
    expect(await fixture.queue.getJob(id)).toBeUndefined();
    const kept = await statusOf(id);
    expect(kept).toMatchObject({
      id,
      status: "completed",
      channels: {
        email: { status: "sent", delivery: { status: "delivered" } },
        sms: { status: "sent", delivery: { status: "delivered" } },
      },
    });
    expect(kept.timeline?.length).toBeGreaterThanOrEqual(6);
  });
});
