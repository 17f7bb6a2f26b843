import { describe, expect, it } from "vitest";
import { runSoak } from "./soak-run.js";

describe("soak (small): faults, queued SMS, quotas and rate limits at the providers", () => {
  it("delivers 300 notifications exactly once per channel, and /metrics agrees with the providers", async () => {
    const result = await runSoak({ count: 300 });
    expect(
      result.problems,
      JSON.stringify({ emails: result.emails, sms: result.sms, jobs: result.jobs }),
    ).toEqual([]);
    expect(result.accepted).toBe(300);
    expect(result.emails).toMatchObject({ delivered: 300, duplicates: 0 });
    expect(result.sms).toMatchObject({ delivered: 300, duplicates: 0 });
    // The faults really happened: some calls failed and some were rate limited.
    expect(result.emails.failedCalls + result.sms.failedCalls).toBeGreaterThan(20);
    // Emails go in batches (EMAIL_BATCH_SIZE's default): far fewer calls than emails, each one
    // delivered once whatever failed around it.
    expect(result.emails.calls).toBeLessThan(300);
    expect(result.emails.statuses["200"] ?? 0).toBeGreaterThan(0);
    expect(result.jobs.failed).toBe(0);
    expect(result.metrics).toEqual({ emailSent: 300, smsSent: 300 });
  }, 120_000);
});
