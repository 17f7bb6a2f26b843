import { expect } from "vitest";
import type { DeliveryEvent } from "../contract/delivery-events.js";
import type { GatewayDeps } from "../gateway/app-types.js";
import type { NotificationStatus } from "../gateway/notification-status.js";
import { eventually } from "./fixtures.js";
import { ADMIN_API_KEY, gatewayOver, VALID_NOTIFICATION } from "./gateway-fixture.js";
import { listen } from "./support/listen.js";
import { startWorkerHarness } from "./worker-fixture.js";

/** The Resend webhook secret tests sign with (`whsec_` and base64, as Resend shows it). */
export const TEST_RESEND_WEBHOOK_SECRET = `whsec_${Buffer.from("test-resend-webhook-secret-0123").toString("base64")}`;

/**
 * A worker over fake providers and a gateway over the same queue, served on a loopback port
 * that is also its PUBLIC_URL: the fake Resend posts its signed events to /webhooks/resend, the
 * fake Twilio its status callbacks (the worker sends StatusCallback) and incoming messages to
 * /webhooks/twilio and /webhooks/twilio/inbound. `events` collects what both publish.
 */
export async function startDeliveryHarness(
  options: {
    harness?: Parameters<typeof startWorkerHarness>[0];
    gateway?: Partial<GatewayDeps>;
  } = {},
) {
  let serve: ((request: Request) => Response | Promise<Response>) | undefined;
  const server = await listen({
    fetch: (request) => serve?.(request) ?? new Response("starting", { status: 503 }),
  });
  const events: DeliveryEvent[] = [];
  // Collects what is published; the replay side of a real publisher is not used here.
  const sink = {
    async publish(event: DeliveryEvent) {
      events.push(event);
    },
    replayLimitPerHour: 0,
    countBetween: async () => 0,
    eventsBetween: async () => [],
    findReplay: async () => undefined,
    replay: async () => ({
      outcome: "limited" as const,
      retryAfterSeconds: 3600,
      queuedLastHour: 0,
      count: 0,
    }),
  };
  const harness = await startWorkerHarness({
    ...options.harness,
    twilio: { deliveryDelayMs: 5, ...options.harness?.twilio },
    statusCallback: `${server.url}/webhooks/twilio`,
    events: sink,
  });
  harness.resend.state.webhook = {
    url: `${server.url}/webhooks/resend`,
    secret: TEST_RESEND_WEBHOOK_SECRET,
  };
  harness.twilio.state.inboundUrl = `${server.url}/webhooks/twilio/inbound`;
  const gateway = gatewayOver(harness, {
    webhooks: {
      resendSecret: TEST_RESEND_WEBHOOK_SECRET,
      twilioAuthToken: harness.twilio.authToken,
      publicUrl: server.url,
    },
    events: sink,
    ...options.gateway,
  });
  serve = gateway.app.fetch;

  /** `GET /notifications/{id}` with the test key (or `key`), as JSON; fails unless 200. */
  async function statusOf(id: string, key?: string): Promise<NotificationStatus> {
    const response = await gateway.get(
      `/notifications/${id}`,
      key ? { authorization: `Bearer ${key}` } : {},
    );
    expect(response.status).toBe(200);
    return (await response.json()) as NotificationStatus;
  }

  /** Posts a notification (the seed payload with its own order id, plus `fields`); its id. */
  async function send(fields: Record<string, unknown> = {}): Promise<string> {
    const response = await gateway.post({
      ...VALID_NOTIFICATION,
      order: crypto.randomUUID(),
      ...fields,
    });
    expect(response.status).toBe(202);
    return ((await response.json()) as { id: string }).id;
  }

  /** Waits until each channel named has reached its delivery status; the notification then. */
  function waitForDelivery(
    id: string,
    expected: Partial<Record<"email" | "sms", string>>,
  ): Promise<NotificationStatus> {
    return eventually(async () => {
      const status = await statusOf(id);
      for (const [channel, wanted] of Object.entries(expected)) {
        expect(status.channels[channel as "email" | "sms"].delivery?.status).toBe(wanted);
      }
      return status;
    });
  }

  return {
    ...gateway,
    statusOf,
    send,
    waitForDelivery,
    /** `fetch` on the gateway's port, as a provider or an admin would. */
    request(path: string, init: RequestInit = {}) {
      return fetch(`${server.url}${path}`, init);
    },
    admin(path: string, init: RequestInit = {}) {
      return gateway.app.request(path, {
        ...init,
        headers: { authorization: `Bearer ${ADMIN_API_KEY}`, ...init.headers },
      });
    },
    harness,
    resend: harness.resend,
    twilio: harness.twilio,
    /** The gateway's public URL. */
    url: server.url,
    events,
    async stop() {
      await server.close();
      await harness.stop();
    },
  };
}

export type DeliveryHarness = Awaited<ReturnType<typeof startDeliveryHarness>>;
