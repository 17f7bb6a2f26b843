import { randomUUID } from "node:crypto";
import { Queue } from "bullmq";
import { type BuiltProcess, sleep, startBuilt } from "../bench/support.js";
import { NOTIFICATION_QUEUE } from "../contract/notification-job.js";
import { freePort, startRedisServer } from "../scripts/redis-server.js";
import { startFakeResend } from "./fakes/resend.js";
import { startFakeTwilio, twilioError } from "./fakes/twilio.js";

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
 * that fail 10 % of calls with a 5xx and answer 2 % with 429: at the end every notification must
 * be delivered exactly once per channel, and the worker's /metrics must agree with the fakes.
 */
export async function runSoak(options: {
  count: number;
  concurrency?: number;
}): Promise<SoakResult> {
  const started = performance.now();
  const redis = await startRedisServer();
  const resend = await startFakeResend();
  const twilio = await startFakeTwilio();
  const tally = { emailFailed: 0, emailLimited: 0, smsFailed: 0, smsLimited: 0 };
  resend.script.failWith = () => {
    const roll = Math.random();
    if (roll < 0.1) {
      tally.emailFailed += 1;
      return {
        status: 500,
        body: { statusCode: 500, name: "internal_server_error", message: "soak" },
      };
    }
    if (roll < 0.12) {
      tally.emailLimited += 1;
      return {
        status: 429,
        body: { statusCode: 429, name: "rate_limit_exceeded", message: "soak" },
        headers: { "retry-after": "0.05" },
      };
    }
    return undefined;
  };
  twilio.script.failWith = () => {
    const roll = Math.random();
    if (roll < 0.1) {
      tally.smsFailed += 1;
      return twilioError(503, 20503, "soak");
    }
    if (roll < 0.12) {
      tally.smsLimited += 1;
      return twilioError(429, 20429, "soak");
    }
    return undefined;
  };

  const port = await freePort();
  const healthPort = await freePort();
  const shared = { REDIS_URL: redis.url, NODE_ENV: "production", LOG_LEVEL: "error" };
  const tsx = ["--import", "tsx"];
  const processes: BuiltProcess[] = [];
  const problems: string[] = [];
  try {
    processes.push(
      startBuilt(
        "gateway/server.ts",
        {
          ...shared,
          PORT: String(port),
          API_KEYS: "soak-key-0123456789abcdef",
          API_RATE_LIMIT_PER_MINUTE: "0",
          // Ten tries with a short backoff: a channel failing 10 % of the time never runs out.
          JOB_ATTEMPTS: "10",
          JOB_BACKOFF_DELAY_MS: "20",
        },
        tsx,
      ),
      startBuilt(
        "worker/index.ts",
        {
          ...shared,
          WORKER_HEALTH_PORT: String(healthPort),
          WORKER_CONCURRENCY: "20",
          RATE_LIMIT_PER_SECOND: "100000",
          EMAIL_RATE_LIMIT_PER_SECOND: "0",
          SMS_RATE_LIMIT_PER_SECOND: "0",
          PROVIDER_RATE_LIMIT_WAIT_MS: "50",
          RESEND_API_KEY: resend.apiKey,
          RESEND_BASE_URL: resend.url,
          EMAIL_FROM: "Soak <soak@example.com>",
          TWILIO_ACCOUNT_SID: twilio.accountSid,
          TWILIO_AUTH_TOKEN: twilio.authToken,
          TWILIO_FROM: "+15005550006",
          TWILIO_API_BASE_URL: twilio.url,
        },
        tsx,
      ),
    );
    await waitForOk(`http://127.0.0.1:${port}/readyz`);
    await waitForOk(`http://127.0.0.1:${healthPort}/healthz`);

    const ids: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: options.concurrency ?? 16 }, async () => {
        while (next < options.count) {
          const index = next++;
          const response = await fetch(`http://127.0.0.1:${port}/notifications`, {
            method: "POST",
            headers: {
              authorization: "Bearer soak-key-0123456789abcdef",
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

    const deadline = Date.now() + Math.max(60_000, options.count * 20);
    while (resend.emails.length < ids.length || twilio.messages.length < ids.length) {
      if (Date.now() > deadline) {
        problems.push(
          `timed out: ${resend.emails.length} emails, ${twilio.messages.length} SMS of ${ids.length}`,
        );
        break;
      }
      await sleep(50);
    }
    await sleep(500); // room for a duplicate to show up

    const queue = new Queue(NOTIFICATION_QUEUE, { connection: { url: redis.url } });
    const jobs = await queue.getJobCounts(
      "waiting",
      "active",
      "delayed",
      "failed",
      "completed",
      "prioritized",
    );
    await queue.close();
    const metricsText = await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text();
    const metric = (name: string) =>
      Number(
        new RegExp(`^${name.replace(/[{}]/g, "\\$&")} (\\d+)`, "m").exec(metricsText)?.[1] ?? 0,
      );

    const emailKeys = new Set(resend.emails.map((email) => email.idempotencyKey));
    const smsBodies = new Set(twilio.messages.map((message) => message.body));
    const result: SoakResult = {
      ok: false,
      count: options.count,
      accepted: ids.length,
      seconds: Math.round((performance.now() - started) / 100) / 10,
      emails: {
        calls: resend.calls.length,
        delivered: resend.emails.length,
        duplicates: resend.emails.length - emailKeys.size,
        failedCalls: tally.emailFailed,
        rateLimited: tally.emailLimited,
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

async function waitForOk(url: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await sleep(20);
  }
  throw new Error(`${url} did not come up`);
}
