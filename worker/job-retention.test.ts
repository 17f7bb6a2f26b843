import { afterEach, beforeEach, expect, it } from "vitest";
import { notificationJobOptions, TRADE_EXECUTED_JOB } from "../contract/notification-job.js";
import { VALID_NOTIFICATION } from "../test/gateway-fixture.js";
import { startWorkerHarness, type WorkerHarness, waitForFinished } from "../test/worker-fixture.js";

let harness: WorkerHarness;
beforeEach(async () => {
  harness = await startWorkerHarness();
});
afterEach(async () => {
  await harness.stop();
});

// The gateway's jobs carry their retries but no retention (gateway/job-from-request.ts), like
// jobs existing backends add: how long a finished job is kept is the worker's setting, which
// BullMQ applies to every job that sets none.
it("keeps finished jobs by the worker's retention: a day (10,000) completed, a week (50,000) failed", async () => {
  const { removeOnComplete, removeOnFail } = notificationJobOptions({
    attempts: 4,
    backoffDelayMs: 20,
  });
  expect(removeOnComplete).toEqual({ age: 24 * 60 * 60, count: 10_000 });
  expect(removeOnFail).toEqual({ age: 7 * 24 * 60 * 60, count: 50_000 });
  expect(harness.worker.opts.removeOnComplete).toEqual(removeOnComplete);
  expect(harness.worker.opts.removeOnFail).toEqual(removeOnFail);

  const id = crypto.randomUUID();
  await harness.queue.add(TRADE_EXECUTED_JOB, VALID_NOTIFICATION, { jobId: id, attempts: 4 });
  const job = await waitForFinished(harness.queue, id);
  expect(job.opts.removeOnComplete).toBeUndefined();
  expect(await job.getState()).toBe("completed");
});
