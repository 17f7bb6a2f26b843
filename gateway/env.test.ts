import { describe, expect, it } from "vitest";
import { EnvError, parseEnv } from "../lib/env.js";
import { gatewayEnvSchema } from "./env.js";

const BASE = { REDIS_URL: "redis://127.0.0.1:6379", API_KEYS: "key-0123456789abcdef" };

function issues(source: Record<string, string>): string[] {
  try {
    parseEnv(gatewayEnvSchema, source);
    return [];
  } catch (error) {
    if (error instanceof EnvError) return error.issues;
    throw error;
  }
}

describe("the gateway's environment", () => {
  it("wants API_KEYS or API_KEY_HASHES", () => {
    expect(issues({ REDIS_URL: BASE.REDIS_URL })).toEqual([
      "API_KEYS: set API_KEYS or API_KEY_HASHES",
    ]);
  });

  it("names a non-numeric PORT, a short key and a bad hash", () => {
    expect(issues({ ...BASE, PORT: "web", API_KEYS: "short", API_KEY_HASHES: "abc" })).toEqual([
      "PORT: Invalid input: expected number, received NaN",
      "API_KEYS.0: each key must be at least 16 characters",
      "API_KEY_HASHES.0: each must be a SHA-256 hex digest (64 hex digits), optionally after admin:",
    ]);
  });

  it("wants a whsec_ Resend secret and an http(s) PUBLIC_URL, kept without a trailing slash", () => {
    // TWILIO_AUTH_TOKEN alone (the worker's secret, which platforms give every process) is fine.
    expect(
      issues({ ...BASE, TWILIO_AUTH_TOKEN: "token", RESEND_WEBHOOK_SECRET: "secret" }),
    ).toEqual(["RESEND_WEBHOOK_SECRET: must start with whsec_"]);
    expect(issues({ ...BASE, PUBLIC_URL: "ftp://notify.example.com" })).toHaveLength(1);
    expect(
      parseEnv(gatewayEnvSchema, {
        ...BASE,
        PUBLIC_URL: "https://notify.example.com/",
        TWILIO_AUTH_TOKEN: "token",
      }),
    ).toMatchObject({
      PUBLIC_URL: "https://notify.example.com",
      DELIVERY_STATUS_RETENTION_DAYS: 30,
      WEBHOOK_RATE_LIMIT_PER_MINUTE: 6000,
    });
  });

  it("wants both admin variables or neither", () => {
    expect(issues({ ...BASE, ADMIN_USER: "ops" })).toEqual([
      "ADMIN_PASSWORD: set both ADMIN_USER and ADMIN_PASSWORD, or neither",
    ]);
  });

  it("shares the job settings' defaults with the worker", () => {
    expect(parseEnv(gatewayEnvSchema, BASE)).toMatchObject({
      JOB_ATTEMPTS: 4,
      JOB_BACKOFF_DELAY_MS: 2000,
      SHUTDOWN_TIMEOUT_MS: 10_000,
    });
  });
});
