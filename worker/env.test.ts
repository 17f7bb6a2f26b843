import { describe, expect, it } from "vitest";
import { EnvError, parseEnv } from "../lib/env.js";
import { workerEnvSchema } from "./env.js";

const REDIS = { REDIS_URL: "redis://127.0.0.1:6379" };

function issues(source: Record<string, string>): string[] {
  try {
    parseEnv(workerEnvSchema, source);
    return [];
  } catch (error) {
    if (error instanceof EnvError) return error.issues;
    throw error;
  }
}

describe("the worker's environment", () => {
  it("refuses a production start without provider credentials, naming each variable", () => {
    expect(issues({ ...REDIS, NODE_ENV: "production" })).toEqual([
      "RESEND_API_KEY: is required in production",
      "EMAIL_FROM: is required in production",
      "TWILIO_ACCOUNT_SID: is required in production",
      "TWILIO_AUTH_TOKEN: is required in production",
      "TWILIO_FROM: is required in production",
    ]);
  });

  it("wants a provider configured completely or not at all outside production", () => {
    expect(issues({ ...REDIS, TWILIO_FROM: "+15005550006" })).toEqual([
      "TWILIO_ACCOUNT_SID: is required when any TWILIO_ variable is set",
      "TWILIO_AUTH_TOKEN: is required when any TWILIO_ variable is set",
    ]);
    expect(issues({ ...REDIS, RESEND_API_KEY: "re_x" })).toEqual([
      "EMAIL_FROM: is required with RESEND_API_KEY",
    ]);
  });

  it("names a bad number and a bad URL", () => {
    expect(issues({ ...REDIS, WORKER_CONCURRENCY: "many", REDIS_URL: "http://x" })).toEqual([
      "REDIS_URL: must be a redis:// or rediss:// URL",
      "WORKER_CONCURRENCY: Invalid input: expected number, received NaN",
    ]);
  });

  it("takes empty values as unset and fills every default once, from the schema", () => {
    const env = parseEnv(workerEnvSchema, { ...REDIS, RESEND_API_KEY: "", JOB_ATTEMPTS: "" });
    expect(env.RESEND_API_KEY).toBeUndefined();
    expect(env).toMatchObject({
      JOB_ATTEMPTS: 4,
      JOB_BACKOFF_DELAY_MS: 2000,
      WORKER_CONCURRENCY: 200,
      RATE_LIMIT_PER_SECOND: 0,
      EMAIL_RATE_LIMIT_PER_SECOND: 2,
      SMS_RATE_LIMIT_PER_SECOND: 10,
      PROVIDER_RATE_LIMIT_WAIT_MS: 1000,
      PROVIDER_QUOTA_WAIT_MS: 3_600_000,
      PROVIDER_MISCONFIGURED_WAIT_MS: 60_000,
      WORKER_SHUTDOWN_TIMEOUT_MS: 30_000,
      WORKER_HEALTH_HOST: "0.0.0.0",
    });
    expect(Object.isFrozen(env)).toBe(true);
  });

  it("wants a hash-tagged prefix on a Redis Cluster", () => {
    expect(issues({ ...REDIS, REDIS_CLUSTER: "true" })).toEqual([
      "QUEUE_PREFIX: must contain a hash tag such as {notifications} when REDIS_CLUSTER=true",
    ]);
  });
});
