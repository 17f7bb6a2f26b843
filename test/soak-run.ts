import { randomBytes, randomUUID } from "node:crypto";
import { Queue } from "bullmq";
import { NOTIFICATION_QUEUE } from "../contract/notification-job.js";
import { freePort, startRedisServer } from "../scripts/redis-server.js";
import { proxyError, resendError, startFakeResend } from "./fakes/resend.js";
import { startFakeTwilio, twilioError, twilioProblem } from "./fakes/twilio.js";
import { type ServiceProcess, startService } from "./support/processes.js";
import { eventually, waitForHttpOk } from "./support/wait.js";

/**
 * The worker's provider timeout in the soak: some scripted answers come later than this. Long
 * enough that a loaded 2-core machine's ordinary answers never exceed it.
 */
const TIMEOUT_MS = 2000;

/** What a soak run found; `ok` is true only when every check held. */
export interface SoakResult {
  ok: boolean;
  count: number;
  accepted: number;
  seconds: number;
  emails: {
    calls: number;
    delivered: number;
    duplicates: number;
    failedCalls: number;
    rateLimited: number;
    concurrent: number;
    /** Calls by the status the fake answered. */
    statuses: Record<string, number>;
  };
  sms: {
    calls: number;
    delivered: number;
    duplicates: number;
    failedCalls: number;
    rateLimited: number;
  };
  jobs: Record<string, number>;
  metrics: { emailSent: number; smsSent: number };
  problems: string[];
}

/**
 * `count` notifications (email + SMS) through a real gateway and worker, with fake providers
 * that fail 10 % of calls (some after accepting the message, some past our timeout), answer 2 % with 429 and 0.5 % of emails with a quota error, and keep SMS queued: at the end every notification must
 * be delivered exactly once per channel, and the worker's /metrics must agree with the fakes.
 */
export async function runSoak(options: {
  count: number;
  concurrency?: number;
}): Promise<SoakResult> {
  const started = performance.now();
  const redis = await startRedisServer();
  const resend = await startFakeResend();
  // Twilio keeps each SMS queued at the sender's pace (50 segments/s here), so every look-up
  // after an ambiguous failure has to find a message that has no date_sent yet.
  const twilio = await startFakeTwilio({ sendRatePerSecond: 50 });
  const tally = { emailFailed: 0, emailLimited: 0, smsFailed: 0, smsLimited: 0 };
  // 10 % of calls fail: half plainly (nothing accepted), a quarter after the provider accepted
  // (answered 500), a quarter answered after our timeout (accepted too). 2 % are rate-limited and
  // 0.5 % of emails hit the daily quota. Twilio answers half its errors as RFC 9457 problems.
  const roll = () => Math.random();
  resend.script.failWith = () => {
    const r = roll();
    if (r < 0.1) {
      tally.emailFailed += 1;
      if (r < 0.05) return proxyError(503, "json");
      if (r < 0.075) return resendError("internal_server_error", { deliver: true });
      return { status: 200, body: {}, deliver: true, delayMs: TIMEOUT_MS + 300 };
    }
    if (r < 0.12) {
      tally.emailLimited += 1;
      return resendError("rate_limit_exceeded", { headers: { "retry-after": "0.05" } });
    }
    if (r < 0.125) {
      tally.emailLimited += 1;
      return resendError("daily_quota_exceeded");
    }
    return undefined;
  };
  twilio.script.failWith = () => {
    const r = roll();
    if (r < 0.1) {
      tally.smsFailed += 1;
      const shape = r < 0.05 ? twilioError : twilioProblem;
      const part = (r % 0.05) / 0.05;
      if (part < 0.5) return shape(503, 20503, "soak");
      if (part < 0.75) return { ...shape(500, 20500, "soak"), deliver: true };
      return { status: 201, body: {}, deliver: true, delayMs: TIMEOUT_MS + 300 };
    }
    if (r < 0.12) {
      tally.smsLimited += 1;
      return twilioError(429, 20429, "soak");
    }
    return undefined;
  };

  // Generated, as a production start wants it.
  const apiKey = randomBytes(32).toString("hex");
  const port = await freePort();
  const healthPort = await freePort();
  const shared = { REDIS_URL: redis.url, NODE_ENV: "production", LOG_LEVEL: "error" };
  const processes: ServiceProcess[] = [];
  const problems: string[] = [];
  try {
    processes.push(
      startService("gateway", {
        ...shared,
        PORT: String(port),
        API_KEYS: apiKey,
        API_RATE_LIMIT_PER_MINUTE: "0",
        // Ten tries with a short backoff: a channel failing 10 % of the time never runs out.
        JOB_ATTEMPTS: "10",
        JOB_BACKOFF_DELAY_MS: "20",
      }),
      startService("worker", {
        ...shared,
        WORKER_HEALTH_PORT: String(healthPort),
        WORKER_CONCURRENCY: "20",
        RATE_LIMIT_PER_SECOND: "100000",
        EMAIL_RATE_LIMIT_PER_SECOND: "0",
        SMS_RATE_LIMIT_PER_SECOND: "0",
        PROVIDER_RATE_LIMIT_WAIT_MS: "50",
        PROVIDER_QUOTA_WAIT_MS: "200",
        PROVIDER_TIMEOUT_MS: String(TIMEOUT_MS),
        RESEND_API_KEY: resend.apiKey,
        RESEND_BASE_URL: resend.url,
        EMAIL_FROM: "Soak <soak@example.com>",
        TWILIO_ACCOUNT_SID: twilio.accountSid,
        TWILIO_AUTH_TOKEN: twilio.authToken,
        TWILIO_FROM: "+15005550006",
        TWILIO_API_BASE_URL: twilio.url,
      }),
    );
    await waitForHttpOk(`http://127.0.0.1:${port}/readyz`);
    await waitForHttpOk(`http://127.0.0.1:${healthPort}/healthz`);

    const ids: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: options.concurrency ?? 16 }, async () => {
        while (next < options.count) {
          const index = next++;
          const response = await fetch(`http://127.0.0.1:${port}/notifications`, {
            method: "POST",
            headers: {
              authorization: `Bearer ${apiKey}`,
              "content-type": "application/json",
            },
            body: JSON.stringify({
              to: `user${index}@example.com`,
              phone: "+12025550143",
              asset: "BTC",
              amount: 1000,
              quantity: 0.02,
              order: `soak-${index}-${randomUUID()}`,
            }),
          });
          if (response.status === 202) ids.push(((await response.json()) as { id: string }).id);
          else problems.push(`POST ${index} answered ${response.status}`);
        }
      }),
    );

    // Done when every job has finished: a provider's count can run ahead of the worker (a call
    // accepted but answered after our timeout), and nothing can send once no job is left.
    const queue = new Queue(NOTIFICATION_QUEUE, { connection: { url: redis.url } });
    const states = ["waiting", "active", "delayed", "failed", "completed", "prioritized"] as const;
    let jobs = await queue.getJobCounts(...states);
    await eventually(
      async () => {
        jobs = await queue.getJobCounts(...states);
        if ((jobs.completed ?? 0) + (jobs.failed ?? 0) < ids.length) throw new Error("not yet");
      },
      { timeout: Math.max(60_000, options.count * 20), interval: 50 },
    ).catch(() => problems.push(`timed out: ${JSON.stringify(jobs)} of ${ids.length}`));
    await queue.close();
    const metricsText = await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text();
    const metric = (name: string) =>
      Number(
        new RegExp(`^${name.replace(/[{}]/g, "\\$&")} (\\d+)`, "m").exec(metricsText)?.[1] ?? 0,
      );

    // Each notification has its own address: a second email to one is a duplicate (keys cannot
    // tell, since a batch's emails share one).
    const emailRecipients = new Set(resend.emails.map((email) => email.to));
    const smsBodies = new Set(twilio.messages.map((message) => message.body));
    const result: SoakResult = {
      ok: false,
      count: options.count,
      accepted: ids.length,
      seconds: Math.round((performance.now() - started) / 100) / 10,
      emails: {
        calls: resend.calls.length,
        delivered: resend.emails.length,
        duplicates: resend.emails.length - emailRecipients.size,
        failedCalls: tally.emailFailed,
        rateLimited: tally.emailLimited,
        // A retry that arrives while the timed-out call is still running: Resend answers 409.
        concurrent: resend.calls.filter((call) => call.status === 409).length,
        statuses: countBy(resend.calls.map((call) => String(call.status))),
      },
      sms: {
        calls: twilio.calls.length,
        delivered: twilio.messages.length,
        duplicates: twilio.messages.length - smsBodies.size,
        failedCalls: tally.smsFailed,
        rateLimited: tally.smsLimited,
      },
      jobs,
      metrics: {
        emailSent: metric('notification_channel_sends_total{channel="email",outcome="sent"}'),
        smsSent:
          metric('notification_channel_sends_total{channel="sms",outcome="sent"}') +
          metric('notification_channel_sends_total{channel="sms",outcome="recovered"}'),
      },
      problems,
    };
    if (result.accepted !== options.count)
      problems.push(`${options.count - result.accepted} notifications not accepted`);
    if (result.emails.delivered !== result.accepted || result.emails.duplicates !== 0)
      problems.push("emails not exactly once");
    // Each duplicated recipient's emails, by endpoint and key: which path sent one twice.
    for (const to of duplicated(resend.emails.map((email) => email.to))) {
      const sent = resend.emails.filter((email) => email.to === to);
      problems.push(
        `${to} got ${sent.length} emails: ${sent.map((email) => `${email.endpoint} ${email.idempotencyKey}`).join(", ")}`,
      );
    }
    if (result.sms.delivered !== result.accepted || result.sms.duplicates !== 0)
      problems.push("SMS not exactly once");
    if (jobs.failed !== 0 || jobs.active !== 0 || jobs.waiting !== 0 || jobs.delayed !== 0)
      problems.push("jobs left unfinished or failed");
    if (
      result.metrics.emailSent !== result.emails.delivered ||
      result.metrics.smsSent !== result.sms.delivered
    ) {
      problems.push("/metrics disagrees with the providers");
    }
    result.ok = problems.length === 0;
    return result;
  } finally {
    await Promise.all(processes.map((process) => process.stop()));
    await Promise.all([resend.close(), twilio.close()]);
    await redis.stop();
  }
}

function duplicated(values: string[]): string[] {
  const seen = new Set<string>();
  return [...new Set(values.filter((value) => seen.has(value) || !seen.add(value)))];
}

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
