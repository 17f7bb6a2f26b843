import { randomUUID } from "node:crypto";
import type { Job, Queue, Telemetry } from "bullmq";
import type { BatchSettings } from "../channels/provider-setup.js";
import type { ChannelRegistry } from "../channels/registry.js";
import { createResendEmailAdapter } from "../channels/resend-email.js";
import { createTwilioSmsAdapter } from "../channels/twilio-sms.js";
import type { DeliveryEventSink } from "../contract/delivery-events.js";
import {
  type NotificationJobSettings,
  notificationJobOptions,
  TRADE_EXECUTED_JOB,
} from "../contract/notification-job.js";
import { createNotificationWorker } from "../worker/create-worker.js";
import type { DigestConfig } from "../worker/digest/policy.js";
import { createWorkerMetrics } from "../worker/metrics.js";
import type { ProviderTrouble } from "../worker/provider-gate.js";
import { type FakeResend, startFakeResend } from "./fakes/resend.js";
import { type FakeTwilio, startFakeTwilio } from "./fakes/twilio.js";
import { createTestQueue, eventually, testLogger, workerRedis } from "./fixtures.js";

/** The email sender address tests use. */
export const TEST_EMAIL_FROM = "Exchange <notifications@example.com>";
/** The Twilio number tests send from. */
export const TEST_SMS_FROM = "+15005550006";

/** The real Resend and Twilio SDK adapters pointed at the given fakes. */
export function registryFor(
  resend: FakeResend,
  twilio: FakeTwilio,
  options: {
    timeoutMs?: number;
    emailPerSecond?: number;
    smsPerSecond?: number;
    /** Twilio's StatusCallback for every SMS (PUBLIC_URL + /webhooks/twilio). */
    statusCallback?: string;
  } = {},
): ChannelRegistry {
  const timeoutMs = options.timeoutMs ?? 5000;
  return {
    adapters: {
      email: createResendEmailAdapter({
        apiKey: resend.apiKey,
        from: TEST_EMAIL_FROM,
        baseUrl: resend.url,
        timeoutMs,
      }),
      sms: createTwilioSmsAdapter({
        accountSid: twilio.accountSid,
        authToken: twilio.authToken,
        from: TEST_SMS_FROM,
        apiBaseUrl: twilio.url,
        timeoutMs,
        ...(options.statusCallback ? { statusCallback: options.statusCallback } : {}),
      }),
    },
    providerRatePerSecond: {
      resend: options.emailPerSecond ?? 0,
      twilio: options.smsPerSecond ?? 0,
    },
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
    /** Retries given to jobs that carry none; fast by default so tests are quick. */
    jobSettings?: NotificationJobSettings;
    waitMs?: Partial<Record<ProviderTrouble, number>>;
    timeoutMs?: number;
    lockDurationMs?: number;
    resend?: Parameters<typeof startFakeResend>[0];
    twilio?: Parameters<typeof startFakeTwilio>[0];
    /** Batches emails as the worker does when EMAIL_BATCH_SIZE > 1 (off unless asked). */
    emailBatch?: BatchSettings;
    /** Fakes another harness owns (a second deployment on the same provider accounts). */
    fakes?: { resend: FakeResend; twilio: FakeTwilio };
    /** BullMQ telemetry for the worker (tracing tests); none unless given. */
    telemetry?: Telemetry;
    /** Twilio's StatusCallback for every SMS; none unless given. */
    statusCallback?: string;
    /** Where the worker publishes its delivery events (sent, failed, what webhooks told it early); none unless given. */
    events?: DeliveryEventSink;
    /** Digests of partial fills (docs/digests.md); off unless given. */
    digests?: DigestConfig;
  } = {},
) {
  const fixture = await createTestQueue();
  const resend = options.fakes?.resend ?? (await startFakeResend(options.resend));
  const twilio = options.fakes?.twilio ?? (await startFakeTwilio(options.twilio));
  const connection = workerRedis();
  const metrics = createWorkerMetrics();
  const worker = await createNotificationWorker({
    connection,
    prefix: fixture.prefix,
    registry: {
      ...registryFor(resend, twilio, options),
      ...(options.emailBatch ? { batching: { email: options.emailBatch } } : {}),
    },
    logger: testLogger(),
    concurrency: options.concurrency ?? 5,
    ratePerSecond: options.ratePerSecond ?? 1000,
    jobSettings: options.jobSettings ?? { attempts: 4, backoffDelayMs: 20 },
    lockDurationMs: options.lockDurationMs ?? 30_000,
    stalledIntervalMs: 30_000,
    drainDelaySeconds: 5,
    metrics,
    waitMs: { rate_limited: 1000, quota: 60_000, misconfigured: 60_000, ...options.waitMs },
    ...(options.telemetry ? { telemetry: options.telemetry } : {}),
    ...(options.events ? { events: options.events } : {}),
    ...(options.digests ? { digests: options.digests } : {}),
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
      if (!options.fakes) await Promise.all([resend.close(), twilio.close()]);
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

/**
 * Adds `count` email-only notifications (`<prefix><index>@example.com`) while the worker is
 * paused, so it takes them all at once; `whilePaused` runs before it resumes. Their ids → emails.
 */
export async function addPausedEmails(
  h: Pick<WorkerHarness, "worker" | "queue">,
  count: number,
  options: { prefix?: string; whilePaused?: () => Promise<void> } = {},
): Promise<Map<string, string>> {
  const toById = new Map<string, string>();
  await h.worker.pause();
  await h.queue.addBulk(
    Array.from({ length: count }, (_, index) => {
      const id = randomUUID();
      const to = `${options.prefix ?? "user"}${index}@example.com`;
      toById.set(id, to);
      return {
        name: TRADE_EXECUTED_JOB,
        data: { ...EMAIL_ONLY_NOTIFICATION, to },
        opts: { ...notificationJobOptions({ attempts: 4, backoffDelayMs: 20 }), jobId: id },
      };
    }),
  );
  await options.whilePaused?.();
  h.worker.resume();
  return toById;
}

/** The seed's notification without a phone: an email only. */
const EMAIL_ONLY_NOTIFICATION = {
  to: "user@example.com",
  asset: "BTC",
  amount: 1000,
  quantity: 0.02,
  order: "order-id-123",
};
