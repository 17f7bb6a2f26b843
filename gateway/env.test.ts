import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { EnvError, parseEnv } from "../lib/env.js";
import { ADMIN_API_KEY, ROTATED_API_KEY, TEST_API_KEY } from "../test/gateway-fixture.js";
import { gatewayEnvSchema } from "./env.js";
import { weakSecrets } from "./secret-strength.js";

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

  describe("its secrets", () => {
    const WEAK = {
      ...BASE,
      API_KEYS: "0123456789abcdef0123456789abcdef",
      ADMIN_USER: "ops",
      ADMIN_PASSWORD: "aaaaaaaaaaaaaaaa",
    };
    const PATTERN_KEY =
      'API_KEYS.0: is guessable: Repeated character patterns like "abcabcabc" are easy to guess (a strength estimator puts it at about 10^4 guesses; a generated key is above 10^20: openssl rand -hex 32)';
    const REPEATED_PASSWORD =
      'ADMIN_PASSWORD: is weak: Repeated characters like "aaa" are easy to guess (a strength estimator rates it 0 of 4; production needs 4)';

    it("refuses a patterned key and a repeated admin password in production, naming each and why", () => {
      expect(issues({ ...WEAK, NODE_ENV: "production" })).toEqual([PATTERN_KEY, REPEATED_PASSWORD]);
      expect(
        issues({
          ...BASE,
          NODE_ENV: "production",
          API_KEYS: `admin:${TEST_API_KEY},${"k".repeat(40)}`,
          ADMIN_USER: "ops",
          ADMIN_PASSWORD: "exchangepassword",
        }),
      ).toEqual([
        "API_KEYS.0: is guessable: it is made of words, sequences or repeats (a strength estimator puts it at about 10^12 guesses; a generated key is above 10^20: openssl rand -hex 32)",
        'API_KEYS.1: is guessable: Repeated characters like "aaa" are easy to guess (a strength estimator puts it at about 10^2 guesses; a generated key is above 10^20: openssl rand -hex 32)',
        "ADMIN_PASSWORD: is weak (a strength estimator rates it 1 of 4; production needs 4)",
      ]);
    });

    it("accepts keys from openssl rand -hex 32 and a long passphrase in production", () => {
      const generated = () =>
        execFileSync("openssl", ["rand", "-hex", "32"], { encoding: "utf8" }).trim();
      const env = {
        ...BASE,
        NODE_ENV: "production",
        API_KEYS: `${generated()},admin:${generated()},${generated()}`,
        ADMIN_USER: "ops",
        ADMIN_PASSWORD: "mantle orbit quietly fennel 7",
      };
      expect(issues(env)).toEqual([]);
    });

    it("allows weak secrets outside production, each with a warning", () => {
      for (const NODE_ENV of ["development", "test"]) {
        expect(issues({ ...WEAK, NODE_ENV })).toEqual([]);
      }
      const env = parseEnv(gatewayEnvSchema, WEAK);
      expect(weakSecrets(env).map(({ path, message }) => `${path.join(".")}: ${message}`)).toEqual([
        PATTERN_KEY,
        REPEATED_PASSWORD,
      ]);
    });

    it("starts the test fixtures' keys outside production, with a warning that production refuses them", () => {
      const keys = `${TEST_API_KEY},${ROTATED_API_KEY},admin:${ADMIN_API_KEY}`;
      expect(issues({ ...BASE, API_KEYS: keys })).toEqual([]);
      expect(weakSecrets({ API_KEYS: keys.split(",") }).map(({ path }) => path)).toEqual([
        ["API_KEYS", 0],
        ["API_KEYS", 1],
        ["API_KEYS", 2],
      ]);
    });
  });
});
