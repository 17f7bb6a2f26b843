/**
 * A worker process killed while its batch call to Resend hangs: the jobs stall back to waiting,
 * a cancel and a suppression come in, and the next worker replays the batch. Real processes, the
 * real resend SDK against the fake, the worker's default settings.
 */
import { Worker } from "bullmq";
import { afterEach, describe, expect, it } from "vitest";
import type { DeliveryReport } from "../contract/delivery-report.js";
import { createSuppressionList } from "../delivery/suppressions.js";
import { type FakeResend, startFakeResend } from "./fakes/resend.js";
import { type FakeTwilio, startFakeTwilio } from "./fakes/twilio.js";
import { createTestQueue, eventually, redisUrl, workerRedis } from "./fixtures.js";
import { gatewayOver, TEST_API_KEY, VALID_NOTIFICATION } from "./gateway-fixture.js";
import { type ServiceProcess, startService } from "./support/processes.js";
import { providerEnv, waitForFinished } from "./worker-fixture.js";

const { phone: _phone, ...EMAIL_ONLY } = VALID_NOTIFICATION;

describe("a batch whose worker died while Resend held the call", () => {
  let resend: FakeResend;
  let twilio: FakeTwilio;
  let fixture: Awaited<ReturnType<typeof createTestQueue>>;
  const workers: ServiceProcess[] = [];

  afterEach(async () => {
    await Promise.all(workers.map((worker) => worker.stop("SIGKILL")));
    workers.length = 0;
    await Promise.all([resend.close(), twilio.close(), fixture.cleanup()]);
  });

  it("refuses the cancel with 409, sends each member once, and reports the one suppressed since as sent", async () => {
    // Resend accepts each call at once and answers 4 s later: the worker dies meanwhile.
    resend = await startFakeResend({ latencyMs: 4000 });
    twilio = await startFakeTwilio();
    fixture = await createTestQueue();
    const gateway = gatewayOver(fixture);
    const env = {
      REDIS_URL: redisUrl(),
      QUEUE_PREFIX: fixture.prefix,
      WORKER_LOCK_DURATION_MS: "1000",
      WORKER_STALLED_INTERVAL_MS: "500",
      ...providerEnv(resend, twilio),
    };
    const first = startService("worker", env);
    workers.push(first);
    await first.waitForLine(/worker ready/);

    const recipients = ["keep@example.com", "cancel@example.com", "suppress@example.com"];
    const ids: string[] = [];
    for (const to of recipients) {
      const response = await gateway.post({ ...EMAIL_ONLY, to });
      expect(response.status).toBe(202);
      ids.push(((await response.json()) as { id: string }).id);
    }
    await eventually(() => expect(resend.emails).toHaveLength(3), { timeout: 10_000 });
    expect(await first.stop("SIGKILL")).toBeNull();

    // BullMQ's own stalled check, as any worker runs it, moves the dead worker's jobs to wait.
    const checker = new Worker(fixture.queue.name, null, {
      connection: workerRedis(),
      prefix: fixture.prefix,
      autorun: false,
      stalledInterval: 200,
    });
    void checker.startStalledCheckTimer();
    await eventually(async () => expect(await fixture.queue.getWaitingCount()).toBe(3), {
      timeout: 10_000,
    });
    await checker.close();

    const [keepId = "", cancelId = "", suppressId = ""] = ids;
    const cancel = await gateway.app.request(`/notifications/${cancelId}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${TEST_API_KEY}` },
    });
    expect(cancel.status).toBe(409);
    expect(((await cancel.json()) as { error: { message: string } }).error.message).toMatch(
      /may already have been sent/,
    );
    const suppressions = createSuppressionList({
      redis: fixture.redis,
      keyPrefix: fixture.queue.qualifiedName,
    });
    await suppressions.add("email", "suppress@example.com", {
      reason: "complaint",
      source: "resend",
      at: new Date().toISOString(),
    });

    resend.state.latencyMs = 0;
    workers.push(startService("worker", env));
    for (const id of [keepId, cancelId, suppressId]) {
      const job = await waitForFinished(fixture.queue, id, 20_000);
      expect(await job.getState()).toBe("completed");
      const to = recipients[ids.indexOf(id)];
      const sent = resend.emails.find((email) => email.to === to);
      expect((job.returnvalue as DeliveryReport).email).toMatchObject({
        status: "sent",
        providerId: sent?.id,
      });
    }
    expect(resend.emails.map((email) => email.to).sort()).toEqual([...recipients].sort());
    const status = await gateway.get(`/notifications/${suppressId}`);
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({ channels: { email: { status: "sent" } } });
  });
});
