import { type ServerType, serve } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSuppressionList } from "../delivery/suppressions.js";
import { eventually } from "../test/fixtures.js";
import {
  ADMIN_API_KEY,
  gatewayOver,
  TEST_API_KEY,
  VALID_NOTIFICATION,
} from "../test/gateway-fixture.js";
import { startWorkerHarness, type WorkerHarness } from "../test/worker-fixture.js";
import {
  createNotificationsClient,
  NotificationsApiError,
  type NotificationsClient,
} from "./notifications-client.js";

describe("the typed client against a running gateway", () => {
  let harness: WorkerHarness;
  let server: ServerType;
  let client: NotificationsClient;
  let admin: NotificationsClient;

  beforeAll(async () => {
    harness = await startWorkerHarness();
    const { app } = gatewayOver(harness);
    const port = await new Promise<number>((resolve) => {
      server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) =>
        resolve(info.port),
      );
    });
    client = createNotificationsClient({
      baseUrl: `http://127.0.0.1:${port}/`,
      apiKey: TEST_API_KEY,
    });
    admin = createNotificationsClient({
      baseUrl: `http://127.0.0.1:${port}/`,
      apiKey: ADMIN_API_KEY,
    });
  });
  afterAll(async () => {
    server?.close();
    await harness?.stop();
  });

  it("sends, reads the outcome, and repeats idempotently", async () => {
    const jobs = () =>
      harness.queue.getJobCountByTypes("waiting", "active", "delayed", "completed", "failed");
    const before = await jobs();
    const sent = await client.send(VALID_NOTIFICATION, { idempotencyKey: "client-1" });
    expect(sent.status).toBe("queued");
    expect((await client.send(VALID_NOTIFICATION, { idempotencyKey: "client-1" })).id).toBe(
      sent.id,
    );
    // The repeat queued nothing.
    expect((await jobs()) - before).toBe(1);
    const status = await eventually(async () => {
      const current = await client.get(sent.id);
      expect(current.status).toBe("completed");
      return current;
    });
    expect(status.channels.email.status).toBe("sent");
    expect(status.channels.sms.providerId).toBe(harness.twilio.messages[0]?.sid);
  });

  it("sends a batch, and schedules then cancels a notification", async () => {
    const batch = await client.sendBatch([
      VALID_NOTIFICATION,
      { ...VALID_NOTIFICATION, amount: -1 },
    ]);
    expect(batch.accepted).toBe(1);
    expect(batch.results[1]?.error?.code).toBe("BAD_REQUEST");
    const later = await client.send({
      ...VALID_NOTIFICATION,
      sendAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    expect(await client.cancel(later.id)).toEqual({ id: later.id, status: "cancelled" });
  });

  it("lists and lifts suppressions with an admin key", async () => {
    const list = createSuppressionList({
      redis: harness.redis,
      keyPrefix: harness.queue.qualifiedName,
    });
    await list.add("sms", "+12025550166", {
      reason: "stop",
      source: "twilio",
      at: new Date(0).toISOString(),
    });
    const page = await admin.listSuppressions({ channel: "sms" });
    expect(page.items).toEqual([
      expect.objectContaining({ channel: "sms", recipient: "+12025550166", reason: "stop" }),
    ]);
    expect(await admin.liftSuppression("sms", "+12025550166")).toEqual({
      channel: "sms",
      recipient: "+12025550166",
      status: "lifted",
    });
    expect(await client.listSuppressions().catch((thrown: unknown) => thrown)).toMatchObject({
      status: 403,
      code: "FORBIDDEN",
    });
  });

  it("throws the API's error with its status, code and request id", async () => {
    const error = await client
      .send({ ...VALID_NOTIFICATION, to: "nope" })
      .catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(NotificationsApiError);
    expect(error).toMatchObject({
      status: 400,
      code: "BAD_REQUEST",
      message: "to: Invalid email address",
    });
    expect((error as NotificationsApiError).requestId).toMatch(/^[0-9a-f-]{36}$/);
    const missing = await client
      .get("00000000-0000-4000-8000-000000000000")
      .catch((thrown: unknown) => thrown);
    expect(missing).toMatchObject({ status: 404, code: "NOT_FOUND" });
  });
});
