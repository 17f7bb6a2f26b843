import { describe, expect, it } from "vitest";
import { gatewayEnvSchema } from "../../gateway/env.js";
import { EnvError, parseEnv } from "../../lib/env.js";
import { newWebhookSecret } from "../../test/fakes/events-backend.js";
import { workerEnvSchema } from "../../worker/env.js";

const WORKER = { REDIS_URL: "redis://127.0.0.1:6379" };
const GATEWAY = { ...WORKER, API_KEYS: "test-key-0123456789abcdef" };
const URL = "https://backend.example.com/hooks/notifications";

function issues(schema: typeof workerEnvSchema | typeof gatewayEnvSchema, source: object) {
  try {
    parseEnv(schema, source as NodeJS.ProcessEnv);
    return [];
  } catch (error) {
    if (error instanceof EnvError) return error.issues;
    throw error;
  }
}

describe("the events variables", () => {
  it.each([
    ["worker", workerEnvSchema, WORKER],
    ["gateway", gatewayEnvSchema, GATEWAY],
  ] as const)("the %s refuses a malformed secret, naming it", (_name, schema, base) => {
    const message =
      "EVENTS_WEBHOOK_SECRET: must be whsec_ followed by a base64 key of 24 to 64 bytes (openssl rand -base64 32)";
    for (const secret of ["secret", "whsec_", "whsec_c2hvcnQ=", "whsec_not base64!"]) {
      expect(
        issues(schema, { ...base, EVENTS_WEBHOOK_URL: URL, EVENTS_WEBHOOK_SECRET: secret }),
      ).toEqual([message]);
    }
  });

  it.each([
    ["worker", workerEnvSchema, WORKER],
    ["gateway", gatewayEnvSchema, GATEWAY],
  ] as const)("the %s wants the URL and the secret together", (_name, schema, base) => {
    expect(issues(schema, { ...base, EVENTS_WEBHOOK_URL: URL })).toEqual([
      "EVENTS_WEBHOOK_SECRET: is required with EVENTS_WEBHOOK_URL",
    ]);
    expect(issues(schema, { ...base, EVENTS_WEBHOOK_SECRET: newWebhookSecret() })).toEqual([
      "EVENTS_WEBHOOK_URL: is required with EVENTS_WEBHOOK_SECRET",
    ]);
    expect(
      issues(schema, {
        ...base,
        EVENTS_WEBHOOK_URL: "ftp://x",
        EVENTS_WEBHOOK_SECRET: newWebhookSecret(),
      }),
    ).toEqual(["EVENTS_WEBHOOK_URL: must be an http(s) URL"]);
  });

  it("reads a short retry schedule and leaves events off when unset", () => {
    const env = parseEnv(workerEnvSchema, {
      ...WORKER,
      EVENTS_RETRY_SCHEDULE_MS: "100, 200,400",
    });
    expect(env.EVENTS_RETRY_SCHEDULE_MS).toEqual([100, 200, 400]);
    expect(env.EVENTS_WEBHOOK_URL).toBeUndefined();
    expect(issues(workerEnvSchema, { ...WORKER, EVENTS_RETRY_SCHEDULE_MS: "5s" })).toEqual([
      "EVENTS_RETRY_SCHEDULE_MS.0: Invalid input: expected number, received NaN",
    ]);
  });
});
