import type { Job, Queue } from "bullmq";
import { createResendEmailSender } from "../worker/channels/email.js";
import type { Senders } from "../worker/channels/sender.js";
import { createTwilioSmsSender } from "../worker/channels/sms.js";
import { createNotificationWorker } from "../worker/create-worker.js";
import { createWorkerMetrics } from "../worker/metrics.js";
import { type FakeResend, startFakeResend } from "./fakes/resend.js";
import { type FakeTwilio, startFakeTwilio } from "./fakes/twilio.js";
import { createTestQueue, eventually, testLogger, workerRedis } from "./fixtures.js";

/** The email sender address tests use. */
export const TEST_EMAIL_FROM = "Exchange <notifications@example.com>";
/** The Twilio number tests send from. */
export const TEST_SMS_FROM = "+15005550006";

/** Real Resend and Twilio SDK senders pointed at the given fakes. */
export function sendersFor(resend: FakeResend, twilio: FakeTwilio, timeoutMs = 5000): Senders {
  return {
    emailProvider: "resend",
    smsProvider: "twilio",
    sendEmail: createResendEmailSender({
      apiKey: resend.apiKey,
      from: TEST_EMAIL_FROM,
      baseUrl: resend.url,
      timeoutMs,
    }),
    sendSms: createTwilioSmsSender({
      accountSid: twilio.accountSid,
      authToken: twilio.authToken,
      from: TEST_SMS_FROM,
      apiBaseUrl: twilio.url,
      timeoutMs,
    }),
  };
}

/**
 * A private queue, the fake providers and a real worker draining the queue through the real
 * SDKs. The rate limit is high so tests are not paced by it unless they ask.
 */
export async function startWorkerHarness(
  options: {
    ratePerSecond?: number;
    concurrency?: number;
    emailPerSecond?: number;
    smsPerSecond?: number;
  } = {},
) {
  const fixture = await createTestQueue();
  const resend = await startFakeResend();
  const twilio = await startFakeTwilio();
  const connection = workerRedis();
  const metrics = createWorkerMetrics();
  const worker = createNotificationWorker({
    connection,
    prefix: fixture.prefix,
    senders: sendersFor(resend, twilio),
    logger: testLogger(),
    concurrency: options.concurrency ?? 5,
    ratePerSecond: options.ratePerSecond ?? 1000,
    providerRatePerSecond: {
      email: options.emailPerSecond ?? 1000,
      sms: options.smsPerSecond ?? 1000,
    },
    lockDurationMs: 30_000,
    stalledIntervalMs: 30_000,
    metrics,
  });
  return {
    ...fixture,
    resend,
    twilio,
    worker,
    metrics,
    connection,
    async stop() {
      await worker.close();
      await connection.quit();
      await Promise.all([resend.close(), twilio.close()]);
      await fixture.cleanup();
    },
  };
}

export type WorkerHarness = Awaited<ReturnType<typeof startWorkerHarness>>;

/** Waits until the job is completed or failed and returns it fresh from Redis. */
export async function waitForFinished(queue: Queue, id: string, timeout = 20_000): Promise<Job> {
  return eventually(
    async () => {
      const job = await queue.getJob(id);
      if (!job?.finishedOn) throw new Error(`job ${id} not finished yet`);
      return job;
    },
    { timeout, interval: 20 },
  );
}

/** Environment that points a worker process's real SDKs at the fakes. */
export function providerEnv(resend: FakeResend, twilio: FakeTwilio): Record<string, string> {
  return {
    RESEND_API_KEY: resend.apiKey,
    RESEND_BASE_URL: resend.url,
    EMAIL_FROM: TEST_EMAIL_FROM,
    TWILIO_ACCOUNT_SID: twilio.accountSid,
    TWILIO_AUTH_TOKEN: twilio.authToken,
    TWILIO_FROM: TEST_SMS_FROM,
    TWILIO_API_BASE_URL: twilio.url,
  };
}
