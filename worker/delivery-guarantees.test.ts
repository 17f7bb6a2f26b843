import { afterEach, describe, expect, it } from "vitest";
import {
  type DeliveryReport,
  notificationJobOptions,
  TRADE_EXECUTED_JOB,
} from "../contract/notification-job.js";
import { twilioError } from "../test/fakes/twilio.js";
import { VALID_NOTIFICATION } from "../test/gateway-fixture.js";
import { startWorkerHarness, type WorkerHarness, waitForFinished } from "../test/worker-fixture.js";
import { MISCONFIGURED_PAUSE_MS } from "./deliver-notification.js";

let harness: WorkerHarness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

const { phone: _phone, ...EMAIL_ONLY } = VALID_NOTIFICATION;
const { to: _to, ...SMS_ONLY } = VALID_NOTIFICATION;

async function add(h: WorkerHarness, data: object, backoffDelayMs = 20) {
  const id = crypto.randomUUID();
  await h.queue.add(TRADE_EXECUTED_JOB, data, {
    ...notificationJobOptions({ attempts: 4, backoffDelayMs }),
    jobId: id,
  });
  return id;
}

describe("retries", () => {
  it("waits 1×, 2× and 4× the base delay between the 4 tries (exponential backoff)", async () => {
    harness = await startWorkerHarness();
    harness.resend.script.failWith = () => ({
      status: 502,
      body: { statusCode: 502, name: "application_error", message: "bad gateway" },
    });
    const base = 150;
    const job = await waitForFinished(harness.queue, await add(harness, EMAIL_ONLY, base));
    expect(job.attemptsMade).toBe(4);
    const times = harness.resend.calls.map((call) => call.at);
    expect(times).toHaveLength(4);
    const gaps = times.slice(1).map((time, index) => time - (times[index] ?? 0));
    // Lower bounds only: a busy machine can make a gap longer, never shorter.
    expect(gaps[0]).toBeGreaterThanOrEqual(base);
    expect(gaps[1]).toBeGreaterThanOrEqual(base * 2);
    expect(gaps[2]).toBeGreaterThanOrEqual(base * 4);
  });
});

describe("mixed outcomes", () => {
  it("fails the notification when one channel failed for good, even after the other one's retry succeeds", async () => {
    harness = await startWorkerHarness();
    harness.resend.script.failNext({
      status: 422,
      body: { statusCode: 422, name: "validation_error", message: "Invalid `to` field." },
    });
    harness.twilio.script.failNext(twilioError(503, 20503, "Service Unavailable"));
    const job = await waitForFinished(harness.queue, await add(harness, VALID_NOTIFICATION));
    expect(await job.getState()).toBe("failed");
    expect(job.attemptsMade).toBe(2);
    expect(job.failedReason).toBe("email validation_error: Invalid `to` field.");
    expect(harness.resend.calls).toHaveLength(1);
    expect(harness.twilio.messages).toHaveLength(1);
    const report = job.progress as DeliveryReport;
    expect(report.email.status).toBe("failed");
    expect(report.sms.status).toBe("sent");
    expect(report.final).toBe(true);
  });
});

describe("Twilio's ambiguous failures", () => {
  it("does not send the SMS again when Twilio sent it but answered 500: it looks it up first", async () => {
    harness = await startWorkerHarness();
    harness.twilio.script.failNext({
      ...twilioError(500, 20500, "Internal Server Error"),
      deliver: true,
    });
    const job = await waitForFinished(harness.queue, await add(harness, SMS_ONLY));
    expect(await job.getState()).toBe("completed");
    expect(harness.twilio.calls).toHaveLength(1);
    expect(harness.twilio.lookups).toHaveLength(1);
    expect(harness.twilio.messages).toHaveLength(1);
    expect((job.returnvalue as DeliveryReport).sms).toEqual({
      status: "sent",
      calls: 2,
      providerId: harness.twilio.messages[0]?.sid,
    });
  });

  it("sends the SMS again when the look-up shows Twilio did not send it", async () => {
    harness = await startWorkerHarness();
    harness.twilio.script.failNext(twilioError(500, 20500, "Internal Server Error"));
    const job = await waitForFinished(harness.queue, await add(harness, SMS_ONLY));
    expect(await job.getState()).toBe("completed");
    expect(harness.twilio.lookups).toHaveLength(1);
    expect(harness.twilio.calls).toHaveLength(2);
    expect(harness.twilio.messages).toHaveLength(1);
  });
});

describe("rate limits", () => {
  it("honours a Resend 429's Retry-After and delivers without using up an attempt", async () => {
    harness = await startWorkerHarness();
    harness.resend.script.failNext({
      status: 429,
      body: { statusCode: 429, name: "rate_limit_exceeded", message: "Too many requests" },
      headers: { "retry-after": "1" },
    });
    const job = await waitForFinished(harness.queue, await add(harness, VALID_NOTIFICATION));
    expect(await job.getState()).toBe("completed");
    expect(job.attemptsMade).toBe(1);
    expect(harness.resend.calls).toHaveLength(2);
    expect(harness.resend.emails).toHaveLength(1);
    expect(harness.twilio.messages).toHaveLength(1);
    const [first, second] = harness.resend.calls;
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(950);
  });

  it("retries a Twilio 429 (code 20429) without using up an attempt", async () => {
    harness = await startWorkerHarness();
    harness.twilio.script.failNext(twilioError(429, 20429, "Too Many Requests"));
    const job = await waitForFinished(harness.queue, await add(harness, SMS_ONLY));
    expect(await job.getState()).toBe("completed");
    expect(job.attemptsMade).toBe(1);
    expect(harness.twilio.messages).toHaveLength(1);
  });

  it("keeps each provider under its own per-second limit", async () => {
    harness = await startWorkerHarness({ emailPerSecond: 2 });
    const ids = await Promise.all(
      Array.from({ length: 6 }, () => add(harness as WorkerHarness, EMAIL_ONLY)),
    );
    for (const id of ids) await waitForFinished(harness.queue, id);
    const times = harness.resend.calls.map((call) => call.at).sort((a, b) => a - b);
    expect(times).toHaveLength(6);
    // Windows of one second hold 2 calls each, so the 5th call is two windows after the 1st:
    // 2000 ms less the first request's own delay (tens of ms). At 3/s it would be about 1000 ms.
    expect((times[4] ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(1700);
  });
});

describe("misconfiguration", () => {
  it("pauses the queue and keeps the job waiting, attempts untouched, when Resend rejects the API key", async () => {
    harness = await startWorkerHarness();
    harness.resend.script.failNext({
      status: 401,
      body: { statusCode: 401, name: "invalid_api_key", message: "API key is invalid" },
    });
    const id = await add(harness, EMAIL_ONLY);
    const h = harness;
    await expect
      .poll(async () => (await h.queue.getRateLimitTtl()) > MISCONFIGURED_PAUSE_MS - 10_000)
      .toBe(true);
    const job = await h.queue.getJob(id);
    if (!job) throw new Error(`job ${id} is gone`);
    expect(await job.getState()).toBe("waiting");
    expect(job.attemptsMade).toBe(0);
    expect(h.resend.calls).toHaveLength(1);
    expect((job.progress as DeliveryReport).email).toEqual({
      status: "pending",
      calls: 1,
      error: { code: "invalid_api_key", message: "API key is invalid", permanent: false },
    });
  });
});
