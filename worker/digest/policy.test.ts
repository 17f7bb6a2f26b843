import { describe, expect, it } from "vitest";
import {
  type NotificationInput,
  notificationPayloadSchema,
} from "../../contract/notification-job.js";
import { workerEnvSchema } from "../env.js";
import { type DigestConfig, digestConfigOf, digestedChannels } from "./policy.js";

/** The configuration of an environment that sets only `env` (besides Redis). */
function configOf(env: Record<string, string> = {}): DigestConfig {
  return digestConfigOf(
    workerEnvSchema.parse({ REDIS_URL: "redis://localhost:6379", NODE_ENV: "test", ...env }),
  );
}

const FILL: NotificationInput = {
  to: "user@example.com",
  phone: "+12025550143",
  asset: "BTC",
  amount: "100",
  quantity: "0.002",
  order: "ord-1",
  fill: { id: "fill-1", final: false },
};

function payload(overrides: Record<string, unknown> = {}) {
  return notificationPayloadSchema.parse({ ...FILL, ...overrides });
}

describe("digestedChannels", () => {
  it("digests the SMS of a fill (30 s window, 5 min at most) and sends the email per fill by default", () => {
    expect(digestedChannels(payload(), configOf())).toEqual({
      sms: { windowMs: 30_000, maxWaitMs: 300_000 },
    });
  });

  it("digests nothing without `fill`", () => {
    expect(digestedChannels(payload({ fill: undefined }), configOf())).toEqual({});
  });

  it("digests nothing when the configuration turns SMS digests off", () => {
    expect(digestedChannels(payload(), configOf({ DIGEST_SMS: "off" }))).toEqual({});
  });

  it("takes the configured timings and the email switch from the environment", () => {
    const config = configOf({
      DIGEST_EMAIL: "on",
      DIGEST_EMAIL_WINDOW_MS: "60000",
      DIGEST_SMS_WINDOW_MS: "10000",
    });
    expect(digestedChannels(payload(), config)).toEqual({
      sms: { windowMs: 10_000, maxWaitMs: 300_000 },
      email: { windowMs: 60_000, maxWaitMs: 300_000 },
    });
  });

  it("lets a request turn a channel's digest off, or on with its own timings", () => {
    const overridden = payload({ digest: { sms: false, email: { windowMs: 5000 } } });
    expect(digestedChannels(overridden, configOf())).toEqual({
      email: { windowMs: 5000, maxWaitMs: 300_000 },
    });
  });

  it("caps a requested window at the maximum wait", () => {
    const overridden = payload({ digest: { sms: { windowMs: 600_000 } } });
    expect(digestedChannels(overridden, configOf({ DIGEST_SMS_MAX_WAIT_MS: "120000" }))).toEqual({
      sms: { windowMs: 120_000, maxWaitMs: 120_000 },
    });
  });

  it("refuses a requested window out of bounds or longer than the requested maximum", () => {
    for (const digest of [
      { sms: { windowMs: 999 } },
      { sms: { maxWaitMs: 3_600_001 } },
      { sms: { windowMs: 20_000, maxWaitMs: 10_000 } },
      { sms: true },
      { push: false },
    ]) {
      expect(notificationPayloadSchema.safeParse({ ...FILL, digest }).success).toBe(false);
    }
  });
});
