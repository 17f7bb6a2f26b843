import { type CreateEmailOptions, type ErrorResponse, Resend } from "resend";
import { afterEach, describe, expect, it } from "vitest";
import { eventually } from "../support/wait.js";
import { startWebhookReceiver } from "../support/webhook-receiver.js";
import {
  type FakeResend,
  type FakeResendOptions,
  IDEMPOTENCY_TTL_MS,
  proxyError,
  RESEND_ERROR_KINDS,
  resendError,
  resendErrorBody,
  startFakeResend,
} from "./resend.js";

/*
 * The fake Resend, driven through the real `resend` SDK: each answer is checked as the `error`
 * (or `data`) object a caller of `resend.emails.send` / `resend.batch.send` gets.
 */

const FROM = "Exchange <notifications@example.com>";
/** What the SDK says when no answer came (refused connection, timeout, abort, unreadable 2xx). */
const UNREACHABLE = {
  name: "application_error",
  statusCode: null,
  message: "Unable to fetch data. The request could not be resolved.",
};
/** What the SDK says about an error answer whose body is not JSON. */
const NOT_JSON_MESSAGE =
  "Internal server error. We are unable to process your request right now, please try again later.";
const TO_FORMAT =
  "The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.";

let fake: FakeResend | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function start(options: FakeResendOptions = {}) {
  fake = await startFakeResend(options);
  return { fake, resend: new Resend(fake.apiKey, { baseUrl: fake.url }) };
}

function email(overrides: Partial<CreateEmailOptions> = {}): CreateEmailOptions {
  return {
    from: FROM,
    to: "user@example.com",
    subject: "Trade executed",
    html: "<p>Bought 0.02 BTC</p>",
    text: "Bought 0.02 BTC",
    ...overrides,
  } as CreateEmailOptions;
}

describe("sending", () => {
  it("accepts an email: the SDK gets its id, the fake records the call and the email", async () => {
    const { fake, resend } = await start();
    const { data, error, headers } = await resend.emails.send(email(), { idempotencyKey: "k-1" });
    expect(error).toBeNull();
    expect(fake.emails).toHaveLength(1);
    expect(data).toEqual({ id: fake.emails[0]?.id });
    expect(fake.emails[0]).toMatchObject({
      from: FROM,
      to: "user@example.com",
      subject: "Trade executed",
      html: "<p>Bought 0.02 BTC</p>",
      text: "Bought 0.02 BTC",
      idempotencyKey: "k-1",
      recipients: ["user@example.com"],
      endpoint: "/emails",
    });
    expect(fake.calls).toEqual([
      { endpoint: "/emails", idempotencyKey: "k-1", at: expect.any(Number), status: 200 },
    ]);
    // The used monthly quota, on every answer (https://resend.com/docs/api-reference/rate-limit).
    expect(headers?.["x-resend-monthly-quota"]).toBe("1");
    // No limit configured: no rate-limit headers.
    expect(headers?.["ratelimit-limit"]).toBeUndefined();
  });

  it("refuses a missing key (401 missing_api_key) and an unknown one (401 validation_error)", async () => {
    const { fake, resend } = await start();
    const missing = await resend.emails.send(email(), { headers: { Authorization: "" } });
    expect(missing.error).toEqual({
      statusCode: 401,
      name: "missing_api_key",
      message: "Missing API key in the authorization header.",
    });
    const wrong = new Resend("re_not_the_key", { baseUrl: fake.url });
    expect((await wrong.emails.send(email())).error).toEqual({
      statusCode: 401,
      name: "validation_error",
      message: "API key is invalid",
    });
    // Not a bearer key at all: 400, as on every endpoint.
    const basic = await resend.emails.send(email(), { headers: { Authorization: "Basic abc" } });
    expect(basic.error).toEqual({
      statusCode: 400,
      name: "validation_error",
      message: "API key is invalid",
    });
    // Retrieving is not a sending endpoint: an unknown key is a 400 there.
    const got = await wrong.emails.get("00000000-0000-4000-8000-000000000000");
    expect(got.error).toMatchObject({ statusCode: 400, name: "validation_error" });
    expect(fake.calls.map((call) => call.status)).toEqual([401, 401, 400]);
    expect(fake.emails).toHaveLength(0);
  });

  it("checks the fields: `to`, `from`, required fields, recipients count", async () => {
    const { fake, resend } = await start();
    expect((await resend.emails.send(email({ to: "not-an-address" }))).error).toEqual({
      statusCode: 422,
      name: "validation_error",
      message: `Invalid \`to\` field. ${TO_FORMAT}`,
    });
    expect((await resend.emails.send(email({ to: ["a@example.com", "b@"] }))).error).toEqual({
      statusCode: 422,
      name: "validation_error",
      message: `Invalid \`to\` field. ${TO_FORMAT}`,
    });
    expect(
      (await resend.emails.send(email({ from: "notifications at example.com" }))).error,
    ).toEqual({
      statusCode: 422,
      name: "invalid_from_address",
      message: `Invalid \`from\` field. ${TO_FORMAT}`,
    });
    expect(
      (await resend.emails.send(email({ subject: undefined as unknown as string }))).error,
    ).toEqual({
      statusCode: 422,
      name: "missing_required_field",
      message: "The `subject` field is missing.",
    });
    const many = Array.from({ length: 51 }, (_, index) => `user${index}@example.com`);
    expect((await resend.emails.send(email({ to: many }))).error).toMatchObject({
      statusCode: 422,
      name: "validation_error",
    });
    // Both forms of an address are accepted.
    const named = await resend.emails.send(
      email({ to: ["User <user@example.com>", "b@example.com"] }),
    );
    expect(named.error).toBeNull();
    expect(fake.emails.map((sent) => sent.to)).toEqual(["User <user@example.com>"]);
    expect(fake.emails[0]?.recipients).toEqual(["User <user@example.com>", "b@example.com"]);
  });

  it("refuses a sender on a domain that is not verified (403), and test mode outside the account", async () => {
    const { fake, resend } = await start({ verifiedDomains: ["example.com"] });
    expect((await resend.emails.send(email({ from: "Acme <news@example.org>" }))).error).toEqual({
      statusCode: 403,
      name: "validation_error",
      message:
        "The example.org domain is not verified. Please, add and verify your domain on https://resend.com/domains",
    });
    // A subdomain is another domain.
    expect(
      (await resend.emails.send(email({ from: "news@mail.example.com" }))).error,
    ).toMatchObject({ statusCode: 403, name: "validation_error" });
    // The shared testing domain sends to the account's own address and test addresses only.
    expect(
      (await resend.emails.send(email({ from: "Acme <onboarding@resend.dev>" }))).error,
    ).toEqual({
      statusCode: 403,
      name: "validation_error",
      message:
        "You can only send testing emails to your own email address (owner@example.com). To send emails to other recipients, please verify a domain at resend.com/domains, and change the `from` address to an email using this domain.",
    });
    const own = await resend.emails.send(
      email({ from: "onboarding@resend.dev", to: ["owner@example.com", "delivered@resend.dev"] }),
    );
    expect(own.error).toBeNull();
    expect(fake.emails).toHaveLength(1);
    fake.state.verifiedDomains = ["acme.test"];
    expect((await resend.emails.send(email())).error).toMatchObject({
      statusCode: 403,
      message: expect.stringContaining("The example.com domain is not verified."),
    });
  });
});

describe("scripted errors, as the SDK hands them over", () => {
  it("answers every documented error with its documented status, name and message", async () => {
    const { fake, resend } = await start();
    for (const kind of RESEND_ERROR_KINDS) {
      fake.script.failNext(resendError(kind));
      const { data, error, headers } = await resend.emails.send(email());
      expect(data).toBeNull();
      expect(error).toEqual(resendErrorBody(kind));
      if (kind === "rate_limit_exceeded") expect(headers?.["retry-after"]).toBe("1");
    }
    // Every name the SDK's `ErrorResponse["name"]` lists has a documented answer.
    const names: Array<ErrorResponse["name"]> = [
      "invalid_idempotency_key",
      "validation_error",
      "missing_api_key",
      "restricted_api_key",
      "invalid_api_key",
      "not_found",
      "method_not_allowed",
      "invalid_idempotent_request",
      "concurrent_idempotent_requests",
      "invalid_attachment",
      "invalid_from_address",
      "invalid_access",
      "invalid_parameter",
      "invalid_region",
      "missing_required_field",
      "monthly_quota_exceeded",
      "daily_quota_exceeded",
      "rate_limit_exceeded",
      "security_error",
      "application_error",
      "internal_server_error",
    ];
    expect(new Set(RESEND_ERROR_KINDS.map((kind) => kind.split(":")[0]))).toEqual(new Set(names));
    expect(fake.calls).toHaveLength(RESEND_ERROR_KINDS.length);
    expect(fake.emails).toHaveLength(0);
    expect(resendErrorBody("daily_quota_exceeded")).toEqual({
      statusCode: 429,
      name: "daily_quota_exceeded",
      message: "You have reached your daily email quota.",
    });
    expect(resendErrorBody("validation_error:domain_not_verified").statusCode).toBe(403);
    expect(resendErrorBody("invalid_idempotency_key")).toEqual({
      statusCode: 400,
      name: "invalid_idempotency_key",
      message: "The key must be between 1-256 chars.",
    });
  });

  it("a proxy's JSON 502 reaches the caller as the body itself: no name, no statusCode", async () => {
    const { fake, resend } = await start();
    fake.script.failNext(proxyError(502));
    const { data, error, headers } = await resend.emails.send(email());
    expect(data).toBeNull();
    expect(error).toEqual({ message: "Bad Gateway" });
    expect(error?.name).toBeUndefined();
    expect(error?.statusCode).toBeUndefined();
    expect(headers?.["content-type"]).toContain("application/json");
  });

  it("a proxy's HTML or empty 5xx becomes application_error with the HTTP status", async () => {
    const { fake, resend } = await start();
    fake.script.failNext(proxyError(502, "html"));
    fake.script.failNext(proxyError(503, "empty"));
    fake.script.failNext(proxyError(504, "html"));
    for (const status of [502, 503, 504]) {
      const { error, headers } = await resend.emails.send(email());
      expect(error).toEqual({
        name: "application_error",
        statusCode: status,
        message: NOT_JSON_MESSAGE,
      });
      expect(headers?.["content-type"]).toContain("text/html");
    }
  });

  it("a 5xx whose body is JSON `null` gives neither data nor error", async () => {
    const { fake, resend } = await start();
    fake.script.failNext({ status: 500, body: null });
    const result = await resend.emails.send(email());
    expect(result.data).toBeNull();
    expect(result.error).toBeNull();
  });

  it("a timeout is application_error with statusCode null and no headers, the email sent all the same", async () => {
    const { fake, resend } = await start({ latencyMs: 400 });
    const { data, error, headers } = await resend.emails.send(email(), {
      idempotencyKey: "slow",
      signal: AbortSignal.timeout(100),
    });
    expect(data).toBeNull();
    expect(error).toEqual(UNREACHABLE);
    expect(headers).toBeNull();
    // Accepted before the answer was due.
    expect(fake.emails).toHaveLength(1);
    await expect.poll(() => fake.calls[0]?.status).toBe(200);
    // The retry with the same key gets the first email's id and sends nothing.
    fake.state.latencyMs = 0;
    const retry = await resend.emails.send(email(), { idempotencyKey: "slow" });
    expect(retry.data).toEqual({ id: fake.emails[0]?.id });
    expect(fake.emails).toHaveLength(1);
  });

  it("a refused connection is application_error with statusCode null", async () => {
    const { fake, resend } = await start();
    await fake.close();
    const { error, headers } = await resend.emails.send(email());
    expect(error).toEqual(UNREACHABLE);
    expect(headers).toBeNull();
  });

  it("a 200 with an unreadable body looks like no answer at all, though the email was sent", async () => {
    const { fake, resend } = await start();
    fake.script.failNext({ status: 200, body: "<html>OK</html>", deliver: true });
    const { data, error } = await resend.emails.send(email(), { idempotencyKey: "garbled" });
    expect(data).toBeNull();
    expect(error).toEqual(UNREACHABLE);
    expect(fake.emails).toHaveLength(1);
    const retry = await resend.emails.send(email(), { idempotencyKey: "garbled" });
    expect(retry.data).toEqual({ id: fake.emails[0]?.id });
    expect(fake.emails).toHaveLength(1);
  });

  it("deliver: true sends the email and answers the error; the retry with the key gets the id", async () => {
    const { fake, resend } = await start();
    fake.script.failNext(resendError("internal_server_error", { deliver: true }));
    const first = await resend.emails.send(email(), { idempotencyKey: "ambiguous" });
    expect(first.error).toEqual({
      statusCode: 500,
      name: "internal_server_error",
      message: "An unexpected error occurred.",
    });
    expect(fake.emails).toHaveLength(1);
    const retry = await resend.emails.send(email(), { idempotencyKey: "ambiguous" });
    expect(retry.error).toBeNull();
    expect(retry.data).toEqual({ id: fake.emails[0]?.id });
    expect(fake.emails).toHaveLength(1);
    expect(fake.calls.map((call) => call.status)).toEqual([500, 200]);
  });

  it("deliver with delayMs: accepted at once, the key in progress (409) until the late answer", async () => {
    const { fake, resend } = await start();
    fake.script.failNext(resendError("application_error", { deliver: true, delayMs: 400 }));
    const timedOut = await resend.emails.send(email(), {
      idempotencyKey: "late",
      signal: AbortSignal.timeout(100),
    });
    expect(timedOut.error).toEqual(UNREACHABLE);
    expect(fake.emails).toHaveLength(1);
    const meanwhile = await resend.emails.send(email(), { idempotencyKey: "late" });
    expect(meanwhile.error).toEqual({
      statusCode: 409,
      name: "concurrent_idempotent_requests",
      message: "Same idempotency key used while original request is still in progress.",
    });
    await expect.poll(() => fake.calls[0]?.status).toBe(500);
    const after = await resend.emails.send(email(), { idempotencyKey: "late" });
    expect(after.data).toEqual({ id: fake.emails[0]?.id });
    expect(fake.emails).toHaveLength(1);
  });

  it("delayMs without deliver: nothing sent, and the key is free once the error is answered", async () => {
    const { fake, resend } = await start();
    fake.script.failNext(resendError("internal_server_error", { delayMs: 150 }));
    const started = performance.now();
    const failed = await resend.emails.send(email(), { idempotencyKey: "lost" });
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect(failed.error).toMatchObject({ statusCode: 500, name: "internal_server_error" });
    expect(fake.emails).toHaveLength(0);
    const retry = await resend.emails.send(email(), { idempotencyKey: "lost" });
    expect(retry.data).toEqual({ id: fake.emails[0]?.id });
    expect(fake.emails).toHaveLength(1);
  });
});

describe("rate limit (https://resend.com/docs/api-reference/rate-limit)", () => {
  it("refuses the request over N a second with 429 rate_limit_exceeded, retry-after and ratelimit-*", async () => {
    const { fake, resend } = await start({ requestsPerSecond: 2 });
    const results = await Promise.all([1, 2, 3].map(() => resend.emails.send(email())));
    const accepted = results.filter((result) => result.error === null);
    const refused = results.filter((result) => result.error !== null);
    expect(accepted).toHaveLength(2);
    expect(refused).toHaveLength(1);
    expect(refused[0]?.error).toEqual({
      statusCode: 429,
      name: "rate_limit_exceeded",
      message:
        "Too many requests. Please limit the number of requests per second. Or contact support to increase rate limit.",
    });
    expect(refused[0]?.headers).toMatchObject({
      "ratelimit-limit": "2",
      "ratelimit-remaining": "0",
      "ratelimit-reset": "1",
      "retry-after": "1",
    });
    expect(accepted.map((result) => result.headers?.["ratelimit-remaining"]).sort()).toEqual([
      "0",
      "1",
    ]);
    expect(accepted[0]?.headers?.["retry-after"]).toBeUndefined();
    expect(fake.emails).toHaveLength(2);
    // Every request is in `calls`, the refused one too.
    expect(fake.calls.map((call) => call.status).sort()).toEqual([200, 200, 429]);
  });

  it("slides: a second after the first request, not at the next whole second; a batch is one request", async () => {
    const { fake, resend } = await start({ requestsPerSecond: 2 });
    const batch = await resend.batch.send([email(), email({ to: "b@example.com" })]);
    expect(batch.error).toBeNull();
    expect((await resend.emails.send(email())).error).toBeNull();
    expect((await resend.emails.send(email())).error).toMatchObject({ statusCode: 429 });
    fake.advanceTime(500);
    expect((await resend.emails.send(email())).error).toMatchObject({ statusCode: 429 });
    fake.advanceTime(500);
    expect((await resend.emails.send(email())).error).toBeNull();
    expect(fake.calls.map((call) => [call.endpoint, call.batchSize, call.status])).toEqual([
      ["/emails/batch", 2, 200],
      ["/emails", undefined, 200],
      ["/emails", undefined, 429],
      ["/emails", undefined, 429],
      ["/emails", undefined, 200],
    ]);
    expect(fake.emails).toHaveLength(4);
  });

  it("a fixed window starts afresh at each whole second", async () => {
    const { fake, resend } = await start({ requestsPerSecond: 1, rateLimitWindow: "fixed" });
    // Start just after a whole second of the fake's clock.
    fake.advanceTime(1000 - (fake.now() % 1000) + 5);
    expect((await resend.emails.send(email())).error).toBeNull();
    expect((await resend.emails.send(email())).error).toMatchObject({ statusCode: 429 });
    fake.advanceTime(1000 - (fake.now() % 1000));
    expect((await resend.emails.send(email())).error).toBeNull();
  });
});

describe("quotas (https://resend.com/docs/api-reference/rate-limit#email-quotas)", () => {
  it("counts recipients per UTC day: over it, 429 daily_quota_exceeded without retry-after", async () => {
    const { fake, resend } = await start({ dailyQuota: 3 });
    const first = await resend.emails.send(email({ to: ["a@example.com", "b@example.com"] }));
    expect(first.headers?.["x-resend-daily-quota"]).toBe("2");
    expect((await resend.emails.send(email())).headers?.["x-resend-daily-quota"]).toBe("3");
    const over = await resend.emails.send(email());
    expect(over.error).toEqual({
      statusCode: 429,
      name: "daily_quota_exceeded",
      message: "You have reached your daily email quota.",
    });
    expect(over.headers?.["retry-after"]).toBeUndefined();
    expect(fake.emails).toHaveLength(2);
    expect(fake.quotaUsed()).toEqual({ daily: 3, monthly: 3 });
    fake.advanceTime(24 * 60 * 60 * 1000);
    expect((await resend.emails.send(email())).error).toBeNull();
    expect(fake.quotaUsed().daily).toBe(1);
  });

  it("a request that would go over the monthly quota is refused whole: 429 monthly_quota_exceeded", async () => {
    const { fake, resend } = await start({ monthlyQuota: 4 });
    expect((await resend.batch.send([email(), email(), email()])).error).toBeNull();
    const over = await resend.emails.send(email({ to: ["a@example.com", "b@example.com"] }));
    expect(over.error).toEqual({
      statusCode: 429,
      name: "monthly_quota_exceeded",
      message: "You have reached your monthly email quota.",
    });
    expect(over.headers?.["x-resend-monthly-quota"]).toBe("3");
    expect(over.headers?.["x-resend-daily-quota"]).toBeUndefined();
    expect((await resend.emails.send(email())).error).toBeNull();
    expect((await resend.emails.send(email())).error).toMatchObject({
      name: "monthly_quota_exceeded",
    });
    fake.advanceTime(32 * 24 * 60 * 60 * 1000);
    expect((await resend.emails.send(email())).error).toBeNull();
    expect(fake.emails).toHaveLength(5);
  });
});

describe("idempotency keys (https://resend.com/docs/dashboard/emails/idempotency-keys)", () => {
  it("the same key and body: the first id again, nothing sent; another body: 409", async () => {
    const { fake, resend } = await start();
    const first = await resend.emails.send(email(), { idempotencyKey: "order-1/email" });
    const again = await resend.emails.send(email(), { idempotencyKey: "order-1/email" });
    expect(again.data).toEqual(first.data);
    expect(fake.emails).toHaveLength(1);
    const other = await resend.emails.send(email({ subject: "Other" }), {
      idempotencyKey: "order-1/email",
    });
    expect(other.error).toEqual({
      statusCode: 409,
      name: "invalid_idempotent_request",
      message: "Same idempotency key used with a different request payload.",
    });
    expect(fake.emails).toHaveLength(1);
    expect(fake.calls.map((call) => [call.idempotencyKey, call.status])).toEqual([
      ["order-1/email", 200],
      ["order-1/email", 200],
      ["order-1/email", 409],
    ]);
  });

  it("the same key while the first request is still processed: 409 concurrent_idempotent_requests", async () => {
    const { fake, resend } = await start({ latencyMs: 300 });
    const first = resend.emails.send(email(), { idempotencyKey: "k" });
    await expect.poll(() => fake.emails.length).toBe(1);
    const second = await resend.emails.send(email(), { idempotencyKey: "k" });
    expect(second.error).toEqual({
      statusCode: 409,
      name: "concurrent_idempotent_requests",
      message: "Same idempotency key used while original request is still in progress.",
    });
    // Another body while it runs is still a conflict of payloads.
    const third = await resend.emails.send(email({ subject: "x" }), { idempotencyKey: "k" });
    expect(third.error).toMatchObject({ statusCode: 409, name: "invalid_idempotent_request" });
    const { data } = await first;
    expect(data).toEqual({ id: fake.emails[0]?.id });
    fake.state.latencyMs = 0;
    expect((await resend.emails.send(email(), { idempotencyKey: "k" })).data).toEqual(data);
    expect(fake.emails).toHaveLength(1);
  });

  it("keeps a key 24 hours: a day later the same request sends a new email", async () => {
    const { fake, resend } = await start();
    const first = await resend.emails.send(email(), { idempotencyKey: "daily" });
    // A minute short of a day (the real clock moves on a few ms between the calls too).
    fake.advanceTime(IDEMPOTENCY_TTL_MS - 60_000);
    expect((await resend.emails.send(email(), { idempotencyKey: "daily" })).data).toEqual(
      first.data,
    );
    fake.advanceTime(60_000);
    const later = await resend.emails.send(email(), { idempotencyKey: "daily" });
    expect(later.error).toBeNull();
    expect(later.data?.id).not.toBe(first.data?.id);
    expect(fake.emails).toHaveLength(2);
  });

  it("refuses a key over 256 characters (400 invalid_idempotency_key)", async () => {
    const { fake, resend } = await start();
    const tooLong = await resend.emails.send(email(), { idempotencyKey: "k".repeat(257) });
    expect(tooLong.error).toEqual({
      statusCode: 400,
      name: "invalid_idempotency_key",
      message: "The key must be between 1-256 chars.",
    });
    expect(
      (await resend.emails.send(email(), { idempotencyKey: "k".repeat(256) })).error,
    ).toBeNull();
    expect(fake.emails).toHaveLength(1);
  });

  it("remembers only sent emails: a refused request leaves its key free", async () => {
    const { fake, resend } = await start();
    const refused = await resend.emails.send(email({ to: "nobody" }), { idempotencyKey: "fix" });
    expect(refused.error).toMatchObject({ statusCode: 422 });
    const fixed = await resend.emails.send(email(), { idempotencyKey: "fix" });
    expect(fixed.error).toBeNull();
    expect(fake.emails).toHaveLength(1);
  });
});

describe("batch (https://resend.com/docs/api-reference/emails/send-batch-emails)", () => {
  const three = () => [
    email({ to: "a@example.com" }),
    email({ to: "b@example.com" }),
    email({ to: "c@example.com" }),
  ];

  it("strict by default: sends all, answers `{ data: [{ id }] }` in order, one call", async () => {
    const { fake, resend } = await start();
    const { data, error } = await resend.batch.send(three(), { idempotencyKey: "batch-1" });
    expect(error).toBeNull();
    expect(data).toEqual({ data: fake.emails.map((sent) => ({ id: sent.id })) });
    expect(fake.emails.map((sent) => [sent.to, sent.endpoint, sent.idempotencyKey])).toEqual([
      ["a@example.com", "/emails/batch", "batch-1"],
      ["b@example.com", "/emails/batch", "batch-1"],
      ["c@example.com", "/emails/batch", "batch-1"],
    ]);
    expect(fake.calls).toEqual([
      {
        endpoint: "/emails/batch",
        idempotencyKey: "batch-1",
        at: expect.any(Number),
        batchSize: 3,
        status: 200,
      },
    ]);
  });

  it("strict: one invalid email fails the whole batch with that email's error", async () => {
    const { fake, resend } = await start();
    const emails = three();
    emails[1] = email({ to: "b-at-example.com" });
    const { data, error } = await resend.batch.send(emails);
    expect(data).toBeNull();
    expect(error).toEqual({
      statusCode: 422,
      name: "validation_error",
      message: `Invalid \`to\` field. ${TO_FORMAT}`,
    });
    expect(fake.emails).toHaveLength(0);
  });

  it("permissive: sends the valid ones, lists the others by index", async () => {
    const { fake, resend } = await start();
    const emails = [
      ...three(),
      email({ to: "d-at-example.com" }),
      email({ subject: undefined as unknown as string }),
      email({ from: "x@example.org" }),
    ];
    const { data, error } = await resend.batch.send(emails, { batchValidation: "permissive" });
    expect(error).toBeNull();
    expect(data?.data).toHaveLength(3);
    expect(data?.data).toEqual(fake.emails.map((sent) => ({ id: sent.id })));
    expect(data?.errors).toEqual([
      { index: 3, message: `Invalid \`to\` field. ${TO_FORMAT}` },
      { index: 4, message: "The `subject` field is missing." },
      {
        index: 5,
        message:
          "The example.org domain is not verified. Please, add and verify your domain on https://resend.com/domains",
      },
    ]);
    expect(fake.calls[0]?.batchSize).toBe(6);
  });

  it("refuses more than 100 emails (422 validation_error)", async () => {
    const { fake, resend } = await start();
    const emails = Array.from({ length: 101 }, () => email());
    const { error } = await resend.batch.send(emails, { batchValidation: "permissive" });
    expect(error).toMatchObject({ statusCode: 422, name: "validation_error" });
    expect(fake.emails).toHaveLength(0);
    expect((await resend.batch.send(emails.slice(0, 100))).data?.data).toHaveLength(100);
  });

  it("one idempotency key for the whole batch: the same batch answers the same ids", async () => {
    const { fake, resend } = await start();
    const first = await resend.batch.send(three(), { idempotencyKey: "digest/2026-01-31" });
    const again = await resend.batch.send(three(), { idempotencyKey: "digest/2026-01-31" });
    expect(again.data).toEqual(first.data);
    expect(fake.emails).toHaveLength(3);
    const other = await resend.batch.send(three().slice(0, 2), {
      idempotencyKey: "digest/2026-01-31",
    });
    expect(other.error).toMatchObject({ statusCode: 409, name: "invalid_idempotent_request" });
    // The key of a batch is not usable for a single email either.
    const single = await resend.emails.send(email(), { idempotencyKey: "digest/2026-01-31" });
    expect(single.error).toMatchObject({ statusCode: 409, name: "invalid_idempotent_request" });
    expect(fake.calls).toHaveLength(4);
  });
});

describe("retrieving an email (https://resend.com/docs/api-reference/emails/retrieve-email)", () => {
  it("answers the email with its last event", async () => {
    const { fake, resend } = await start();
    const sent = await resend.emails.send(email({ to: ["a@example.com", "b@example.com"] }));
    const id = sent.data?.id ?? "";
    const { data, error } = await resend.emails.get(id);
    expect(error).toBeNull();
    expect(data).toMatchObject({
      object: "email",
      id,
      from: FROM,
      to: ["a@example.com", "b@example.com"],
      subject: "Trade executed",
      html: "<p>Bought 0.02 BTC</p>",
      text: "Bought 0.02 BTC",
      cc: null,
      bcc: null,
      last_event: "delivered",
    });
    fake.setLastEvent(id, "bounced");
    expect((await resend.emails.get(id)).data?.last_event).toBe("bounced");
    expect((await resend.emails.get("00000000-0000-4000-8000-000000000000")).error).toMatchObject({
      statusCode: 404,
      name: "not_found",
    });
    expect((await resend.emails.get("not-a-uuid")).error).toEqual({
      statusCode: 422,
      name: "invalid_parameter",
      message: "The `id` must be a valid UUID.",
    });
    // GETs are not sends: `calls` has the one POST.
    expect(fake.calls).toHaveLength(1);
  });

  it("answers an unknown path with Resend's not_found", async () => {
    const { fake } = await start();
    const response = await fetch(`${fake.url}/nope`, {
      headers: { authorization: `Bearer ${fake.apiKey}` },
    });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      statusCode: 404,
      name: "not_found",
      message: "The requested endpoint does not exist.",
    });
  });
});

describe("webhooks, signed as Resend signs them", () => {
  const SECRET = `whsec_${Buffer.from("fake-resend-webhook-secret-32by").toString("base64")}`;
  const receivers: Array<Awaited<ReturnType<typeof startWebhookReceiver>>> = [];
  afterEach(async () => {
    await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
  });

  async function withReceiver(options: FakeResendOptions = {}) {
    const receiver = await startWebhookReceiver();
    receivers.push(receiver);
    const started = await start({
      webhook: { url: `${receiver.url}/webhooks/resend`, secret: SECRET },
      ...options,
    });
    return { ...started, receiver };
  }

  /** What the resend SDK's own verification makes of a received request. */
  function verified(request: { body: string; headers: Record<string, string> }) {
    return new Resend("re_unused").webhooks.verify({
      payload: request.body,
      headers: {
        id: request.headers["svix-id"] ?? "",
        timestamp: request.headers["svix-timestamp"] ?? "",
        signature: request.headers["svix-signature"] ?? "",
      },
      webhookSecret: SECRET,
    });
  }

  it("posts email.sent then email.delivered for an accepted email, verifiable by the SDK", async () => {
    const { fake, resend, receiver } = await withReceiver();
    const { data } = await resend.emails.send(email());
    await fake.webhooksIdle();
    expect(receiver.requests.map((request) => request.path)).toEqual([
      "/webhooks/resend",
      "/webhooks/resend",
    ]);
    const events = receiver.requests.map(verified);
    expect(events.map((event) => event.type)).toEqual(["email.sent", "email.delivered"]);
    expect(events[1]).toMatchObject({
      type: "email.delivered",
      data: { email_id: data?.id, to: ["user@example.com"], subject: "Trade executed" },
    });
    // One svix-id per event.
    const ids = receiver.requests.map((request) => request.headers["svix-id"]);
    expect(new Set(ids).size).toBe(2);
    expect(receiver.requests[0]?.headers["content-type"]).toBe("application/json");
  });

  it("bounces bounced@resend.dev (Permanent) and reports complained@resend.dev's complaint", async () => {
    const { fake, resend, receiver } = await withReceiver();
    const bounced = await resend.emails.send(email({ to: "bounced+order-1@resend.dev" }));
    await fake.webhooksIdle();
    const complained = await resend.emails.send(email({ to: "complained@resend.dev" }));
    await fake.webhooksIdle();
    const events = receiver.requests.map(verified);
    expect(
      events.map((event) => [event.type, (event.data as { email_id: string }).email_id]),
    ).toEqual([
      ["email.sent", bounced.data?.id],
      ["email.bounced", bounced.data?.id],
      ["email.sent", complained.data?.id],
      ["email.delivered", complained.data?.id],
      ["email.complained", complained.data?.id],
    ]);
    expect(events[1]).toMatchObject({ data: { bounce: { type: "Permanent" } } });
    const got = await resend.emails.get(bounced.data?.id ?? "");
    expect(got.data?.last_event).toBe("bounced");
  });

  it("retries a failed POST after Svix's delays, with the same svix-id and a fresh signature", async () => {
    const { fake, resend, receiver } = await withReceiver({ webhookRetryDelaysMs: [50, 50] });
    receiver.state.status = 500;
    await resend.emails.send(email());
    await fake.webhooksIdle();
    await eventually(() => expect(receiver.requests.length).toBeGreaterThanOrEqual(6));
    const sentAttempts = fake.webhooks.filter((delivery) => delivery.type === "email.sent");
    expect(sentAttempts.map((delivery) => delivery.attempt)).toEqual([1, 2, 3]);
    expect(new Set(sentAttempts.map((delivery) => delivery.id)).size).toBe(1);
    for (const attempt of sentAttempts) expect(verified(attempt).type).toBe("email.sent");
  });

  it("sends nothing without a webhook, and a replay is the same request byte for byte", async () => {
    const quiet = await startFakeResend();
    const sdk = new Resend(quiet.apiKey, { baseUrl: quiet.url });
    await sdk.emails.send(email());
    await quiet.webhooksIdle();
    expect(quiet.webhooks).toHaveLength(0);
    await quiet.close();

    const { fake, resend, receiver } = await withReceiver();
    await resend.emails.send(email());
    await fake.webhooksIdle();
    const [first] = fake.webhooks;
    if (!first) throw new Error("no webhook");
    await fake.replayWebhook(first);
    const [original, replayed] = [receiver.requests[0], receiver.requests.at(-1)];
    expect(replayed?.body).toBe(original?.body);
    expect(replayed?.headers["svix-signature"]).toBe(original?.headers["svix-signature"]);
  });
});
