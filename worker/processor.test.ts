import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DeliveryReport } from "../contract/delivery-report.js";
import { notificationJobOptions, TRADE_EXECUTED_JOB } from "../contract/notification-job.js";
import { twilioError } from "../test/fakes/twilio.js";
import { VALID_NOTIFICATION } from "../test/gateway-fixture.js";
import {
  startWorkerHarness,
  TEST_EMAIL_FROM,
  TEST_SMS_FROM,
  type WorkerHarness,
  waitForFinished,
} from "../test/worker-fixture.js";

let harness: WorkerHarness;
beforeEach(async () => {
  harness = await startWorkerHarness();
});
afterEach(async () => {
  await harness.stop();
});

/** Retry settings that keep the suite fast: 4 tries, 20 ms base backoff. */
const FAST_RETRIES = notificationJobOptions({ attempts: 4, backoffDelayMs: 20 });

async function addNotification(data: object = VALID_NOTIFICATION, id = crypto.randomUUID()) {
  await harness.queue.add(TRADE_EXECUTED_JOB, data, { ...FAST_RETRIES, jobId: id });
  return id;
}

describe("processNotification through the real SDKs", () => {
  it("sends one email through Resend and one SMS through Twilio, and completes", async () => {
    const id = await addNotification({ ...VALID_NOTIFICATION, side: "buy" });
    const job = await waitForFinished(harness.queue, id);

    expect(await job.getState()).toBe("completed");
    expect(harness.resend.emails).toHaveLength(1);
    const email = harness.resend.emails[0];
    expect(email?.from).toBe(TEST_EMAIL_FROM);
    expect(email?.to).toBe("user@example.com");
    expect(email?.subject).toBe("Trade executed: You bought 0.02 BTC");
    expect(email?.text).toBe(
      [
        "You bought 0.02 BTC for $1,000.00",
        "",
        "Asset: BTC",
        "Quantity: 0.02",
        "Amount: $1,000.00",
        "Side: Buy",
        "Order: order-id-123",
        "",
        "--",
        "Exchange",
        "You are receiving this message because you have an account with Exchange.",
        "Help and support: https://example.com/support",
      ].join("\n"),
    );
    expect(email?.html).toContain("<strong>order-id-123</strong>");
    // Unique per deployment and notification: the deployment's id, the job's id and creation time.
    const deploymentId = await harness.redis.get(`${harness.prefix}:notifications:deployment-id`);
    expect(deploymentId).toMatch(/^[0-9a-f-]{36}$/);
    expect(email?.idempotencyKey).toBe(`${deploymentId}/${id}/${job.timestamp}/email`);

    expect(harness.twilio.messages).toHaveLength(1);
    const sms = harness.twilio.messages[0];
    expect(sms?.to).toBe("+12025550143");
    expect(sms?.from).toBe(TEST_SMS_FROM);
    expect(sms?.body).toBe("Exchange: You bought 0.02 BTC for $1,000.00. Order order-id-123");

    expect(job.returnvalue).toEqual({
      email: { status: "sent", calls: 1, providerId: email?.id },
      sms: { status: "sent", calls: 1, providerId: sms?.sid },
    } satisfies DeliveryReport);
  });

  it("sends only the email when there is no phone, and marks the SMS skipped", async () => {
    const { phone: _phone, ...seed } = VALID_NOTIFICATION;
    const job = await waitForFinished(harness.queue, await addNotification(seed));
    expect(harness.resend.emails).toHaveLength(1);
    expect(harness.twilio.calls).toHaveLength(0);
    expect((job.returnvalue as DeliveryReport).sms).toEqual({ status: "skipped", calls: 0 });
  });

  it("delivers a job an existing backend added directly, under its own job name and without options", async () => {
    const { phone: _phone, ...seed } = VALID_NOTIFICATION;
    const job = await harness.queue.add("send-trade-notification", seed);
    const finished = await waitForFinished(harness.queue, String(job.id));
    expect(await finished.getState()).toBe("completed");
    expect(harness.resend.emails.map((email) => email.to)).toEqual(["user@example.com"]);
  });

  it.each([
    [
      "bit.ly/3xYzAb",
      "order: must not contain a link or email address: mail and SMS clients make them tappable",
    ],
    [
      `<script>alert("x")</script>&'`,
      "order: must be 1-128 ASCII letters, digits or . _ -, starting and ending with a letter or digit",
    ],
  ])(
    "fails a backend's job whose order is %s at once with the reason, sending nothing",
    async (order, reason) => {
      // The contract keeps links and markup out of ids; the templates escape what they print even so
      // (rendering/templates.test.ts).
      const job = await waitForFinished(
        harness.queue,
        await addNotification({ ...VALID_NOTIFICATION, order }),
      );
      expect(await job.getState()).toBe("failed");
      expect(job.attemptsMade).toBe(1);
      expect(job.failedReason).toBe(`Invalid notification payload: ${reason}`);
      expect(harness.resend.calls).toHaveLength(0);
      expect(harness.twilio.calls).toHaveLength(0);
    },
  );

  it("fails an invalid job at once with the reason, without retrying or calling a provider", async () => {
    const id = await addNotification({ ...VALID_NOTIFICATION, to: "not-an-email", amount: -1 });
    const job = await waitForFinished(harness.queue, id);
    expect(await job.getState()).toBe("failed");
    expect(job.attemptsMade).toBe(1);
    expect(job.failedReason).toBe(
      "Invalid notification payload: to: Invalid email address; amount: must be greater than 0",
    );
    expect(harness.resend.calls).toHaveLength(0);
    expect(harness.twilio.calls).toHaveLength(0);
  });

  it("retries a Resend 500 and sends the email once, without sending the SMS again", async () => {
    harness.resend.script.failNext({
      status: 500,
      body: { statusCode: 500, name: "internal_server_error", message: "boom" },
    });
    const job = await waitForFinished(harness.queue, await addNotification());
    expect(await job.getState()).toBe("completed");
    expect(job.attemptsMade).toBe(2);
    expect(harness.resend.calls).toHaveLength(2);
    expect(harness.resend.emails).toHaveLength(1);
    expect(harness.twilio.calls).toHaveLength(1);
    expect(harness.twilio.messages).toHaveLength(1);
    expect((job.returnvalue as DeliveryReport).email).toMatchObject({ status: "sent", calls: 2 });
  });

  it("retries a Twilio 503 and sends the SMS once, without sending the email again", async () => {
    harness.twilio.script.failNext(twilioError(503, 20500, "Service unavailable"));
    const job = await waitForFinished(harness.queue, await addNotification());
    expect(await job.getState()).toBe("completed");
    expect(harness.resend.calls).toHaveLength(1);
    expect(harness.twilio.calls).toHaveLength(2);
    expect(harness.twilio.messages).toHaveLength(1);
  });

  it("fails the SMS for good on Twilio 21211 after one call, and still sends the email once", async () => {
    harness.twilio.script.failNext(
      twilioError(400, 21211, "The 'To' number is not a valid phone number."),
    );
    const job = await waitForFinished(harness.queue, await addNotification());
    expect(await job.getState()).toBe("failed");
    expect(job.attemptsMade).toBe(1);
    expect(job.failedReason).toBe("sms 21211: The 'To' number is not a valid phone number.");
    expect(harness.twilio.calls).toHaveLength(1);
    expect(harness.resend.emails).toHaveLength(1);
    const report = job.progress as DeliveryReport;
    expect(report.email).toMatchObject({ status: "sent", calls: 1 });
    expect(report.sms).toEqual({
      status: "failed",
      calls: 1,
      error: {
        code: "21211",
        message: "The 'To' number is not a valid phone number.",
        permanent: true,
        kind: "permanent",
      },
    });
  });

  it("keeps the recipient's number out of the failed reason and the report, masking what the provider quoted", async () => {
    harness.twilio.script.failNext(
      twilioError(400, 21211, "The 'To' number +12025550166 is not a valid phone number."),
    );
    const job = await waitForFinished(harness.queue, await addNotification());
    expect(job.failedReason).toBe(
      "sms 21211: The 'To' number +1********66 is not a valid phone number.",
    );
    expect(JSON.stringify(job.progress)).not.toContain("+12025550166");
  });

  it("tries exactly 4 times on a provider that always answers 500, then fails the channel", async () => {
    harness.resend.script.failWith = () => ({
      status: 500,
      body: { statusCode: 500, name: "internal_server_error", message: "down" },
    });
    const { phone: _phone, ...emailOnly } = VALID_NOTIFICATION;
    const job = await waitForFinished(harness.queue, await addNotification(emailOnly));
    expect(await job.getState()).toBe("failed");
    expect(job.attemptsMade).toBe(4);
    expect(harness.resend.calls).toHaveLength(4);
    expect(harness.resend.emails).toHaveLength(0);
    expect(job.failedReason).toBe("email internal_server_error: down");
    // Each 500 may have sent: the doubt stays on record, from the first call to the last answer.
    expect((job.progress as DeliveryReport).email).toEqual({
      status: "failed",
      calls: 4,
      inFlightSince: expect.any(Number),
      inFlightUntil: expect.any(Number),
      error: {
        code: "internal_server_error",
        message: "down",
        permanent: false,
        kind: "transient",
      },
    });
  });

  it("fails the email without retrying on a Resend validation_error", async () => {
    harness.resend.script.failNext({
      status: 422,
      body: { statusCode: 422, name: "validation_error", message: "Invalid `to` field." },
    });
    const job = await waitForFinished(harness.queue, await addNotification());
    expect(await job.getState()).toBe("failed");
    expect(job.attemptsMade).toBe(1);
    expect(harness.resend.calls).toHaveLength(1);
    expect(harness.twilio.messages).toHaveLength(1);
  });
});
