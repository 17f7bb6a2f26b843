import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { notificationJobOptions, TRADE_EXECUTED_JOB } from "../contract/notification-job.js";
import { type FakeResend, startFakeResend } from "./fakes/resend.js";
import { type FakeTwilio, startFakeTwilio } from "./fakes/twilio.js";
import { createTestQueue, eventually, redisUrl } from "./fixtures.js";
import { VALID_NOTIFICATION } from "./gateway-fixture.js";
import { type ServiceProcess, startService } from "./processes.js";
import { providerEnv, waitForFinished } from "./worker-fixture.js";

describe("a worker killed between the providers' success and the job's completion", () => {
  let resend: FakeResend;
  let twilio: FakeTwilio;
  let fixture: Awaited<ReturnType<typeof createTestQueue>>;
  const workers: ServiceProcess[] = [];

  afterEach(async () => {
    await Promise.all(workers.map((worker) => worker.stop("SIGKILL")));
    await Promise.all([resend.close(), twilio.close(), fixture.cleanup()]);
  });

  it("does not send the email or the SMS a second time when another worker takes the job over", async () => {
    resend = await startFakeResend();
    // Twilio accepts the SMS at once but answers after 3 s: the job is still active then.
    twilio = await startFakeTwilio({ latencyMs: 3000 });
    fixture = await createTestQueue();
    const env = {
      REDIS_URL: redisUrl(),
      QUEUE_PREFIX: fixture.prefix,
      // Short locks so the dead worker's job is recovered within seconds.
      WORKER_LOCK_DURATION_MS: "1000",
      WORKER_STALLED_INTERVAL_MS: "500",
      ...providerEnv(resend, twilio),
    };
    const first = startService("worker", env);
    workers.push(first);
    await first.waitForLine(/worker ready/);

    const id = randomUUID();
    await fixture.queue.add(TRADE_EXECUTED_JOB, VALID_NOTIFICATION, {
      ...notificationJobOptions({ attempts: 4, backoffDelayMs: 50 }),
      jobId: id,
    });
    await eventually(() => {
      expect(resend.emails).toHaveLength(1);
      expect(twilio.messages).toHaveLength(1);
    });
    expect(await first.stop("SIGKILL")).toBeNull();
    twilio.state.latencyMs = 0;

    const second = startService("worker", env);
    workers.push(second);
    const job = await waitForFinished(fixture.queue, id, 20_000);

    expect(await job.getState()).toBe("completed");
    expect(resend.calls).toHaveLength(2);
    expect(resend.calls.map((call) => call.idempotencyKey)).toEqual([
      `notification:${id}:email`,
      `notification:${id}:email`,
    ]);
    expect(resend.emails).toHaveLength(1);
    expect(twilio.calls).toHaveLength(1);
    expect(twilio.lookups).toHaveLength(1);
    expect(twilio.messages).toHaveLength(1);
    expect(job.returnvalue).toMatchObject({
      email: { status: "sent", providerId: resend.emails[0]?.id },
      sms: { status: "sent", providerId: twilio.messages[0]?.sid },
    });
  });
});
