import { Worker } from "bullmq";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { notificationJobOptions, TRADE_EXECUTED_JOB } from "../contract/notification-job.js";
import { freePort } from "../scripts/redis-server.js";
import { twilioError } from "../test/fakes/twilio.js";
import { eventually } from "../test/fixtures.js";
import { VALID_NOTIFICATION } from "../test/gateway-fixture.js";
import { startWorkerHarness, type WorkerHarness, waitForFinished } from "../test/worker-fixture.js";
import { createHealthApp } from "./health-server.js";
import { createWorkerMetrics } from "./metrics.js";

let harness: WorkerHarness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

function sample(text: string, name: string): number | undefined {
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

describe("the worker's health port", () => {
  it("answers /healthz 200 while the worker runs with Redis connected", async () => {
    harness = await startWorkerHarness();
    const app = createHealthApp({ ...harness, worker: () => harness?.worker });
    await harness.worker.waitUntilReady();
    const response = await app.request("/healthz");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok", redis: "ready", running: true });
  });

  it("answers /healthz 503 while Redis is unreachable", async () => {
    const connection = new Redis(`redis://127.0.0.1:${await freePort()}`, {
      maxRetriesPerRequest: null,
    });
    connection.on("error", () => {});
    const worker = new Worker("notifications", async () => {}, { connection, autorun: false });
    worker.on("error", () => {});
    try {
      const response = await createHealthApp({
        worker: () => worker,
        connection,
        metrics: createWorkerMetrics(),
      }).request("/healthz");
      expect(response.status).toBe(503);
      const body = (await response.json()) as { status: string };
      expect(body.status).toBe("unavailable");
    } finally {
      connection.disconnect();
    }
  });

  it("counts sends per channel and outcome, and jobs per outcome, on /metrics", async () => {
    harness = await startWorkerHarness();
    harness.twilio.script.failNext(twilioError(400, 21211, "Invalid 'To' Phone Number"));
    const options = notificationJobOptions({ attempts: 4, backoffDelayMs: 20 });
    const failing = await harness.queue.add(TRADE_EXECUTED_JOB, VALID_NOTIFICATION, options);
    await waitForFinished(harness.queue, String(failing.id));
    const ok = await harness.queue.add(TRADE_EXECUTED_JOB, VALID_NOTIFICATION, options);
    await waitForFinished(harness.queue, String(ok.id));

    const app = createHealthApp({ ...harness, worker: () => harness?.worker });
    // The worker's completed/failed events fire just after Redis shows the job finished.
    const text = await eventually(async () => {
      const response = await app.request("/metrics");
      expect(response.status).toBe(200);
      const body = await response.text();
      expect(sample(body, 'notification_jobs_total{outcome="completed"}')).toBe(1);
      return body;
    });
    expect(sample(text, 'notification_channel_sends_total{channel="email",outcome="sent"}')).toBe(
      2,
    );
    expect(sample(text, 'notification_channel_sends_total{channel="sms",outcome="sent"}')).toBe(1);
    expect(
      sample(text, 'notification_channel_sends_total{channel="sms",outcome="permanent"}'),
    ).toBe(1);
    expect(sample(text, 'notification_jobs_total{outcome="completed"}')).toBe(1);
    expect(sample(text, 'notification_jobs_total{outcome="failed"}')).toBe(1);
    expect(
      sample(
        text,
        'notification_provider_request_duration_seconds_count{channel="email",outcome="sent"}',
      ),
    ).toBe(2);
    expect(text).toContain("process_resident_memory_bytes");
  });
});
