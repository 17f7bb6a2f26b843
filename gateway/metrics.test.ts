import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TRADE_EXECUTED_JOB } from "../contract/notification-job.js";
import { createTestQueue } from "../test/fixtures.js";
import { gatewayOver, type TestGateway, VALID_NOTIFICATION } from "../test/gateway-fixture.js";

let gateway: TestGateway;
beforeEach(async () => {
  gateway = gatewayOver(await createTestQueue(), { metricsCacheMs: 5000 });
});
afterEach(async () => {
  await gateway.cleanup();
});

async function scrape(): Promise<string> {
  const response = await gateway.metricsApp.request("/metrics");
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toContain("text/plain");
  return response.text();
}

function sample(text: string, name: string): number | undefined {
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

describe("the public port", () => {
  it("answers 404 to /metrics: it is served on METRICS_PORT only", async () => {
    const response = await gateway.app.request("/metrics");
    expect(response.status).toBe(404);
    expect(await response.text()).not.toContain("bullmq_job_count");
  });
});

describe("GET /metrics", () => {
  it("reports the queue depth by state under bullmq_job_count", async () => {
    for (let i = 0; i < 3; i++) expect((await gateway.post(VALID_NOTIFICATION)).status).toBe(202);
    await gateway.queue.add(TRADE_EXECUTED_JOB, VALID_NOTIFICATION, { delay: 60_000 });
    const text = await scrape();
    expect(sample(text, 'bullmq_job_count{queue="notifications",state="waiting"}')).toBe(3);
    expect(sample(text, 'bullmq_job_count{queue="notifications",state="delayed"}')).toBe(1);
    expect(sample(text, 'bullmq_job_count{queue="notifications",state="active"}')).toBe(0);
    expect(sample(text, "notifications_queue_metrics_up")).toBe(1);
  });

  it("reports the age of the oldest waiting job", async () => {
    await gateway.queue.add(TRADE_EXECUTED_JOB, VALID_NOTIFICATION, {
      timestamp: Date.now() - 90_000,
    });
    await gateway.queue.add(TRADE_EXECUTED_JOB, VALID_NOTIFICATION);
    const age = sample(
      await scrape(),
      'bullmq_oldest_waiting_job_age_seconds{queue="notifications"}',
    );
    expect(age).toBeGreaterThanOrEqual(90);
    expect(age).toBeLessThan(120);
  });

  it("counts requests by route and status", async () => {
    await gateway.post(VALID_NOTIFICATION);
    await gateway.post({ ...VALID_NOTIFICATION, to: "nope" });
    const text = await scrape();
    expect(
      sample(
        text,
        'http_requests_total{method="POST",route="/notifications",status="202",ok="true"}',
      ),
    ).toBe(1);
    expect(
      sample(
        text,
        'http_requests_total{method="POST",route="/notifications",status="400",ok="false"}',
      ),
    ).toBe(1);
  });

  it("reads the queue once per cache period however many scrapers ask", async () => {
    await gateway.post(VALID_NOTIFICATION);
    await scrape();
    await gateway.post(VALID_NOTIFICATION);
    // Within the 5 s cache: still the first reading.
    const text = await scrape();
    expect(sample(text, 'bullmq_job_count{queue="notifications",state="waiting"}')).toBe(1);
  });
});
