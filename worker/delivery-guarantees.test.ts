/**
 * The delivery guarantees, each against fake providers that behave as Twilio and Resend document
 * (queued SMS, day-granular filters, errors after acceptance, quotas, every error shape), through
 * the real `resend` and `twilio` SDKs and a real worker on a real Redis.
 */
import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import type { DeliveryReport } from "../contract/delivery-report.js";
import { notificationJobOptions, TRADE_EXECUTED_JOB } from "../contract/notification-job.js";
import { proxyError, resendError } from "../test/fakes/resend.js";
import { twilioError, twilioProblem } from "../test/fakes/twilio.js";
import { eventually } from "../test/fixtures.js";
import { VALID_NOTIFICATION } from "../test/gateway-fixture.js";
import { startWorkerHarness, type WorkerHarness, waitForFinished } from "../test/worker-fixture.js";

let harness: WorkerHarness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

const { phone: _phone, ...EMAIL_ONLY } = VALID_NOTIFICATION;
const { to: _to, ...SMS_ONLY } = VALID_NOTIFICATION;

async function add(h: WorkerHarness, data: object, backoffDelayMs = 20) {
  const id = randomUUID();
  await h.queue.add(TRADE_EXECUTED_JOB, data, {
    ...notificationJobOptions({ attempts: 4, backoffDelayMs }),
    jobId: id,
  });
  return id;
}

/** When a delayed job is due: BullMQ scores its delayed set by timestamp × 4096 (+ a counter). */
async function dueAt(h: WorkerHarness, id: string): Promise<number> {
  const score = await h.redis.zscore(`${h.prefix}:notifications:delayed`, id);
  return Math.floor(Number(score) / 4096);
}

/** Waits until the job sits in the delayed set for at least `minMs` more, and returns it fresh. */
async function waitForDelayed(h: WorkerHarness, id: string, minMs = 0) {
  return eventually(async () => {
    const job = await h.queue.getJob(id);
    expect(await job?.getState()).toBe("delayed");
    expect((await dueAt(h, id)) - Date.now()).toBeGreaterThan(minMs);
    return job as NonNullable<typeof job>;
  });
}

describe("retries", () => {
  it("waits 1×, 2× and 4× the base delay between the 4 tries (exponential backoff)", async () => {
    harness = await startWorkerHarness();
    harness.resend.script.failWith = () => resendError("internal_server_error");
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

  it("gives a job an existing backend added without options the same 4 tries and backoff", async () => {
    const base = 150;
    harness = await startWorkerHarness({ jobSettings: { attempts: 4, backoffDelayMs: base } });
    harness.resend.script.failNext(resendError("internal_server_error"), 3);
    // Exactly what the exchange's old backends do: a name, the seed payload, no options.
    const added = await harness.queue.add("send-trade-notification", EMAIL_ONLY);
    const job = await waitForFinished(harness.queue, String(added.id));
    expect(await job.getState()).toBe("completed");
    expect(job.attemptsMade).toBe(4);
    expect(harness.resend.emails).toHaveLength(1);
    const times = harness.resend.calls.map((call) => call.at);
    expect(times).toHaveLength(4);
    const gaps = times.slice(1).map((time, index) => time - (times[index] ?? 0));
    expect(gaps[0]).toBeGreaterThanOrEqual(base);
    expect(gaps[1]).toBeGreaterThanOrEqual(base * 2);
    expect(gaps[2]).toBeGreaterThanOrEqual(base * 4);
  });
});

describe("mixed outcomes", () => {
  it("fails the notification when one channel failed for good, even after the other one's retry succeeds", async () => {
    harness = await startWorkerHarness();
    harness.resend.script.failNext(resendError("validation_error:invalid_to"));
    harness.twilio.script.failNext(twilioError(503, 20503, "Service Unavailable"));
    const job = await waitForFinished(harness.queue, await add(harness, VALID_NOTIFICATION));
    expect(await job.getState()).toBe("failed");
    expect(job.attemptsMade).toBe(2);
    expect(job.failedReason).toMatch(/^email validation_error: Invalid `to` field/);
    expect(harness.resend.calls).toHaveLength(1);
    expect(harness.twilio.messages).toHaveLength(1);
    const report = job.progress as DeliveryReport;
    expect(report.email.status).toBe("failed");
    expect(report.sms.status).toBe("sent");
    expect(report.final).toBe(true);
  });
});

describe("SMS exactly once against a Twilio that queues", () => {
  it("does not send the SMS again when Twilio accepted it, kept it queued, and answered 500", async () => {
    // A long code sends 1 segment a second: the first message is still queued at the retry.
    harness = await startWorkerHarness({ twilio: { sendRatePerSecond: 0.01 } });
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

  it("does not send the SMS again when Twilio accepted it but answered after our timeout", async () => {
    harness = await startWorkerHarness({ twilio: { sendRatePerSecond: 0.01 }, timeoutMs: 300 });
    harness.twilio.script.failNext({ status: 201, body: {}, deliver: true, delayMs: 1500 });
    const job = await waitForFinished(harness.queue, await add(harness, SMS_ONLY));
    expect(await job.getState()).toBe("completed");
    expect(harness.twilio.calls).toHaveLength(1);
    expect(harness.twilio.messages).toHaveLength(1);
  });

  it("sends the SMS again when the look-up shows Twilio did not accept it", async () => {
    harness = await startWorkerHarness();
    harness.twilio.script.failNext(twilioError(500, 20500, "Internal Server Error"));
    const job = await waitForFinished(harness.queue, await add(harness, SMS_ONLY));
    expect(await job.getState()).toBe("completed");
    expect(harness.twilio.lookups).toHaveLength(1);
    expect(harness.twilio.calls).toHaveLength(2);
    expect(harness.twilio.messages).toHaveLength(1);
  });

  it("sends two SMS for two notifications with the same text to one number, when the second's first call failed", async () => {
    harness = await startWorkerHarness();
    // Two equal partial fills: the same SMS text, the same number, the same day.
    const first = await waitForFinished(harness.queue, await add(harness, SMS_ONLY));
    expect(await first.getState()).toBe("completed");
    harness.twilio.script.failNext(twilioError(503, 20503, "Service Unavailable"));
    const second = await waitForFinished(harness.queue, await add(harness, SMS_ONLY));
    expect(await second.getState()).toBe("completed");
    expect(harness.twilio.messages).toHaveLength(2);
    const firstSid = (first.returnvalue as DeliveryReport).sms.providerId;
    const secondSid = (second.returnvalue as DeliveryReport).sms.providerId;
    expect(new Set([firstSid, secondSid]).size).toBe(2);
  });

  it("gives each of two same-text notifications its own SMS when one's retry looks while the other's call is still at Twilio", async () => {
    // Twilio accepts at once and answers 1.5 s later: the other notification's message exists,
    // unclaimed, while the retry looks.
    harness = await startWorkerHarness({ twilio: { latencyMs: 1500 } });
    harness.twilio.script.failNext(twilioError(503, 20503, "Service Unavailable"));
    const retried = await add(harness, SMS_ONLY, 600);
    await eventually(() => expect(harness?.twilio.calls).toHaveLength(1));
    const other = await add(harness, SMS_ONLY);
    const [first, second] = [
      await waitForFinished(harness.queue, retried),
      await waitForFinished(harness.queue, other),
    ];
    expect(await first.getState()).toBe("completed");
    expect(await second.getState()).toBe("completed");
    expect(harness.twilio.messages).toHaveLength(2);
    const sids = [first, second].map((job) => (job.returnvalue as DeliveryReport).sms.providerId);
    expect(new Set(sids).size).toBe(2);
  });

  it("makes no look-up when a call was refused for sure (a 429), and sends once", async () => {
    harness = await startWorkerHarness({ waitMs: { rate_limited: 50 } });
    harness.twilio.script.failNext(twilioError(429, 20429, "Too Many Requests"));
    const job = await waitForFinished(harness.queue, await add(harness, SMS_ONLY));
    expect(await job.getState()).toBe("completed");
    expect(job.attemptsMade).toBe(1);
    expect(harness.twilio.lookups).toHaveLength(0);
    expect(harness.twilio.messages).toHaveLength(1);
  });
});

describe("Twilio's error shapes", () => {
  it("fails the SMS for good on an RFC 9457 problem with code 21211, after one call", async () => {
    harness = await startWorkerHarness();
    harness.twilio.script.failNext(twilioProblem(400, 21211, "The 'To' number is not valid."));
    const job = await waitForFinished(harness.queue, await add(harness, SMS_ONLY));
    expect(await job.getState()).toBe("failed");
    expect(job.attemptsMade).toBe(1);
    expect(job.failedReason).toBe("sms 21211: The 'To' number is not valid.");
    expect(harness.twilio.calls).toHaveLength(1);
  });

  it("retries an RFC 9457 503 and sends once", async () => {
    harness = await startWorkerHarness();
    harness.twilio.script.failNext(twilioProblem(503, 20503, "Service Unavailable"));
    const job = await waitForFinished(harness.queue, await add(harness, SMS_ONLY));
    expect(await job.getState()).toBe("completed");
    expect(job.attemptsMade).toBe(2);
    expect(harness.twilio.messages).toHaveLength(1);
  });

  it("treats 21611 (the sender's queue is full) as a wait of a minute, not a failure", async () => {
    harness = await startWorkerHarness({ waitMs: { rate_limited: 50 } });
    harness.twilio.script.failNext(
      twilioError(
        400,
        21611,
        "This 'From' number has exceeded the maximum number of queued messages",
      ),
    );
    const id = await add(harness, SMS_ONLY);
    // The queue drains at the sender's pace: the SMS waits a minute, with no attempt used.
    const job = await waitForDelayed(harness, id, 50_000);
    expect(job.attemptsMade).toBe(0);
    expect((job.progress as DeliveryReport).sms).toMatchObject({
      status: "pending",
      error: { code: "21611", kind: "rate_limited", permanent: false },
    });
    expect(harness.metrics.providerWaits().twilio).toMatchObject({ reason: "rate_limited" });
  });
});

describe("Resend's error shapes", () => {
  it("retries a proxy's JSON 502 without statusCode or name, and sends once", async () => {
    harness = await startWorkerHarness();
    harness.resend.script.failNext(proxyError(502, "json"));
    const job = await waitForFinished(harness.queue, await add(harness, EMAIL_ONLY));
    expect(await job.getState()).toBe("completed");
    expect(job.attemptsMade).toBe(2);
    expect(harness.resend.emails).toHaveLength(1);
  });

  it("retries concurrent_idempotent_requests and sends once", async () => {
    harness = await startWorkerHarness();
    harness.resend.script.failNext(resendError("concurrent_idempotent_requests"));
    const job = await waitForFinished(harness.queue, await add(harness, EMAIL_ONLY));
    expect(await job.getState()).toBe("completed");
    expect(harness.resend.emails).toHaveLength(1);
  });
});

describe("provider waits hold back one provider only", () => {
  it("honours a Resend 429's Retry-After without using an attempt, and the SMS goes out meanwhile", async () => {
    harness = await startWorkerHarness();
    harness.resend.script.failNext(
      resendError("rate_limit_exceeded", { headers: { "retry-after": "1" } }),
    );
    const job = await waitForFinished(harness.queue, await add(harness, VALID_NOTIFICATION));
    expect(await job.getState()).toBe("completed");
    expect(job.attemptsMade).toBe(1);
    expect(harness.resend.calls).toHaveLength(2);
    expect(harness.resend.emails).toHaveLength(1);
    expect(harness.twilio.messages).toHaveLength(1);
    const [first, second] = harness.resend.calls;
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(950);
    // The SMS did not wait for the email's Retry-After.
    expect((harness.twilio.messages[0]?.receivedAt ?? 0) - (first?.at ?? 0)).toBeLessThan(900);
  });

  it("takes `Retry-After: 0` as go now, without using an attempt", async () => {
    harness = await startWorkerHarness();
    harness.resend.script.failNext(
      resendError("rate_limit_exceeded", { headers: { "retry-after": "0" } }),
    );
    const job = await waitForFinished(harness.queue, await add(harness, EMAIL_ONLY));
    expect(await job.getState()).toBe("completed");
    expect(job.attemptsMade).toBe(1);
    expect(harness.resend.emails).toHaveLength(1);
  });

  it("holds the email for the quota's reset on daily_quota_exceeded, sends the SMS, and makes no more Resend calls meanwhile", async () => {
    harness = await startWorkerHarness({ waitMs: { quota: 60_000 } });
    harness.resend.script.failNext(resendError("daily_quota_exceeded"));
    const first = await add(harness, VALID_NOTIFICATION);
    // The delay is the quota wait, not a short rate-limit retry.
    const job = await waitForDelayed(harness, first, 50_000);
    expect(job.attemptsMade).toBe(0);
    await eventually(() => expect(harness?.twilio.messages).toHaveLength(1));
    expect((job.progress as DeliveryReport).email).toMatchObject({
      status: "pending",
      calls: 1,
      error: { code: "daily_quota_exceeded", kind: "quota" },
    });
    // A second notification: its SMS goes out, its email makes no call while Resend waits.
    const second = await add(harness, VALID_NOTIFICATION);
    await waitForDelayed(harness, second);
    await eventually(() => expect(harness?.twilio.messages).toHaveLength(2));
    expect(harness.resend.calls).toHaveLength(1);
    expect(harness.metrics.providerWaits().resend).toMatchObject({ reason: "quota" });
  });

  it.each([
    ["Resend 403 domain not verified", "email", "validation_error:domain_not_verified"],
    ["Resend 422 invalid_from_address", "email", "invalid_from_address"],
    ["Resend invalid API key", "email", "validation_error:invalid_key"],
  ] as const)(
    "waits for the operator on %s: no attempt used, the SMS still goes out",
    async (_name, _channel, kind) => {
      harness = await startWorkerHarness();
      harness.resend.script.failNext(resendError(kind));
      const id = await add(harness, VALID_NOTIFICATION);
      const job = await waitForDelayed(harness, id);
      expect(job.attemptsMade).toBe(0);
      expect(job.delay).toBeGreaterThan(50_000);
      await eventually(() => expect(harness?.twilio.messages).toHaveLength(1));
      expect((job.progress as DeliveryReport).email).toMatchObject({
        status: "pending",
        error: { kind: "misconfigured", permanent: false },
      });
      expect(harness.metrics.providerWaits().resend).toMatchObject({ reason: "misconfigured" });
    },
  );

  it.each([
    ["20404 (wrong account)", twilioError(404, 20404, "The requested resource was not found")],
    [
      "21212 (invalid From)",
      twilioError(400, 21212, "The 'From' number is not a valid phone number"),
    ],
    [
      "21606 (From not SMS-capable)",
      twilioError(
        400,
        21606,
        "The 'From' phone number provided is not a valid message-capable Twilio phone number",
      ),
    ],
  ])(
    "waits for the operator on Twilio %s: no attempt used, the email still goes out",
    async (_name, scripted) => {
      harness = await startWorkerHarness();
      harness.twilio.script.failNext(scripted);
      const id = await add(harness, VALID_NOTIFICATION);
      const job = await waitForDelayed(harness, id);
      expect(job.attemptsMade).toBe(0);
      await eventually(() => expect(harness?.resend.emails).toHaveLength(1));
      expect((job.progress as DeliveryReport).sms).toMatchObject({
        status: "pending",
        error: { kind: "misconfigured" },
      });
    },
  );
});

describe("provider rate limits", () => {
  it("never lets more than the limit into any one-second window, so a provider enforcing it never answers 429", async () => {
    // The fake Resend counts every request in a sliding second, as strict as Resend can be.
    harness = await startWorkerHarness({ emailPerSecond: 2, resend: { requestsPerSecond: 2 } });
    const ids = await Promise.all(
      Array.from({ length: 7 }, () => add(harness as WorkerHarness, EMAIL_ONLY)),
    );
    for (const id of ids) await waitForFinished(harness.queue, id);
    const times = harness.resend.calls.map((call) => call.at).sort((a, b) => a - b);
    expect(times).toHaveLength(7);
    expect(harness.resend.calls.filter((call) => call.status === 429)).toHaveLength(0);
    // Any three consecutive calls span more than a second.
    for (let i = 2; i < times.length; i++) {
      expect((times[i] ?? 0) - (times[i - 2] ?? 0)).toBeGreaterThanOrEqual(990);
    }
  });
});

describe("idempotency keys", () => {
  it("sends both emails when two deployments share a Resend team and a job id", async () => {
    harness = await startWorkerHarness();
    const other = await startWorkerHarness({
      fakes: { resend: harness.resend, twilio: harness.twilio },
    });
    try {
      // Direct producers' jobs have counter ids: both deployments have a job "1".
      const mine = await harness.queue.add(TRADE_EXECUTED_JOB, EMAIL_ONLY);
      const theirs = await other.queue.add(TRADE_EXECUTED_JOB, EMAIL_ONLY);
      expect([mine.id, theirs.id]).toEqual(["1", "1"]);
      await waitForFinished(harness.queue, "1");
      await waitForFinished(other.queue, "1");
      expect(harness.resend.emails).toHaveLength(2);
    } finally {
      await other.stop();
    }
  });
});
