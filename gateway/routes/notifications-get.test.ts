import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TRADE_EXECUTED_JOB } from "../../contract/notification-job.js";
import { testLogger } from "../../test/fixtures.js";
import {
  createTestGateway,
  type TestGateway,
  VALID_NOTIFICATION,
} from "../../test/gateway-fixture.js";
import { startWorkerHarness, waitForFinished } from "../../test/worker-fixture.js";
import { createApp } from "../app.js";

let gateway: TestGateway;
beforeEach(async () => {
  gateway = await createTestGateway();
});
afterEach(async () => {
  await gateway.cleanup();
});

describe("GET /notifications/:id", () => {
  it("reports a queued notification with both channels pending", async () => {
    const { id } = (await (await gateway.post(VALID_NOTIFICATION)).json()) as { id: string };
    const response = await gateway.get(`/notifications/${id}`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toEqual({
      id,
      status: "queued",
      attemptsMade: 0,
      createdAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      channels: {
        email: { status: "pending", calls: 0 },
        sms: { status: "pending", calls: 0 },
      },
      timeline: [expect.objectContaining({ source: "gateway", event: "accepted" })],
    });
  });

  it("answers 404 with the error shape for an unknown id", async () => {
    const response = await gateway.get("/notifications/00000000-0000-4000-8000-000000000000");
    expect(response.status).toBe(404);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("NOT_FOUND");
    expect(body.error.message).toBe("No notification with id 00000000-0000-4000-8000-000000000000");
  });

  it("answers 400 for an id with characters no job id has", async () => {
    const response = await gateway.get("/notifications/a%20b");
    expect(response.status).toBe(400);
  });

  it("answers 401 without a key", async () => {
    const response = await gateway.app.request("/notifications/anything");
    expect(response.status).toBe(401);
  });
});

describe("GET /notifications/:id after delivery", () => {
  it("reports completed with each channel's provider id", async () => {
    const harness = await startWorkerHarness();
    try {
      const job = await harness.queue.add(TRADE_EXECUTED_JOB, VALID_NOTIFICATION, {
        jobId: crypto.randomUUID(),
      });
      await waitForFinished(harness.queue, String(job.id));
      const app = createApp({
        queue: harness.queue,
        redis: harness.redis,
        // An admin-scoped key: the job was added directly, by no key.
        apiKeys: [`admin:${"k".repeat(32)}`],
        jobSettings: { attempts: 4, backoffDelayMs: 2000 },
        logger: testLogger(),
      });
      const response = await app.request(`/notifications/${job.id}`, {
        headers: { authorization: `Bearer ${"k".repeat(32)}` },
      });
      const body = (await response.json()) as Record<string, unknown>;
      expect(body).toMatchObject({
        id: job.id,
        status: "completed",
        attemptsMade: 1,
        channels: {
          email: { status: "sent", calls: 1, providerId: harness.resend.emails[0]?.id },
          sms: { status: "sent", calls: 1, providerId: harness.twilio.messages[0]?.sid },
        },
      });
      expect(body.finishedAt).toEqual(expect.stringMatching(/^\d{4}-/));
    } finally {
      await harness.stop();
    }
  });
});
