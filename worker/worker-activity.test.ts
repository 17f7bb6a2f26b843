import { describe, expect, it } from "vitest";
import { createWorkerActivity } from "./worker-activity.js";

describe("worker activity", () => {
  it("stays drained for the jobs fetched before the event, and not for one fetched after", async () => {
    const activity = createWorkerActivity();
    expect(activity.queueDrained()).toBe(false);
    activity.drained(1_000);
    // BullMQ starts the cycle's jobs after it emitted "drained": fetched at or before it.
    await activity.run({ processedOn: 999 }, async () => {
      expect(activity.queueDrained()).toBe(true);
      expect(activity.jobsRunning()).toBe(1);
    });
    await activity.run({ processedOn: 1_000 }, async () => {});
    expect(activity.queueDrained()).toBe(true);
    await activity.run({ processedOn: 1_001 }, async () => {});
    expect(activity.queueDrained()).toBe(false);
  });

  it("counts the jobs running, also when one throws", async () => {
    const activity = createWorkerActivity();
    let release = () => {};
    const held = activity.run({}, () => new Promise<void>((resolve) => (release = resolve)));
    const failing = activity.run({}, async () => {
      throw new Error("boom");
    });
    await expect(failing).rejects.toThrow("boom");
    expect(activity.jobsRunning()).toBe(1);
    release();
    await held;
    expect(activity.jobsRunning()).toBe(0);
  });
});
