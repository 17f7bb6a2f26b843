import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { notificationJobOptions, TRADE_EXECUTED_JOB } from "../../contract/notification-job.js";
import { ADMIN_API_KEY, gatewayOver, VALID_NOTIFICATION } from "../../test/gateway-fixture.js";
import {
  startWorkerHarness,
  type WorkerHarness,
  waitForFinished,
} from "../../test/worker-fixture.js";

let harness: WorkerHarness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

describe("search for a direct producer's notification", () => {
  it("finds it by order for an admin key once the worker recorded it", async () => {
    harness = await startWorkerHarness();
    const gateway = gatewayOver(harness);
    const id = randomUUID();
    await harness.queue.add(
      TRADE_EXECUTED_JOB,
      { ...VALID_NOTIFICATION, order: "ord-direct-1" },
      { ...notificationJobOptions({ attempts: 4, backoffDelayMs: 20 }), jobId: id },
    );
    await waitForFinished(harness.queue, id);
    const response = await gateway.app.request("/notifications?order=ord-direct-1", {
      headers: { authorization: `Bearer ${ADMIN_API_KEY}` },
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { items: Array<{ id: string }> };
    expect(body.items.map((item) => item.id)).toEqual([id]);
  });
});
