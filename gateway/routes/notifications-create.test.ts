import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TRADE_EXECUTED_JOB } from "../../contract/notification-job.js";
import { DEFAULT_JOB_SETTINGS } from "../../lib/env.js";
import {
  createTestGateway,
  createUnreachableGateway,
  ROTATED_API_KEY,
  TEST_API_KEY,
  type TestGateway,
  VALID_NOTIFICATION,
} from "../../test/gateway-fixture.js";
import { apiKeyId } from "../api-keys.js";

let gateway: TestGateway;
beforeEach(async () => {
  gateway = await createTestGateway();
});
afterEach(async () => {
  await gateway.cleanup();
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

async function expectError(
  response: Response,
  status: number,
  code: string,
  message: string | RegExp,
) {
  expect(response.status).toBe(status);
  const body = (await response.json()) as {
    error: { code: string; message: string; requestId: string };
  };
  expect(Object.keys(body)).toEqual(["error"]);
  expect(body.error.code).toBe(code);
  if (typeof message === "string") expect(body.error.message).toBe(message);
  else expect(body.error.message).toMatch(message);
  expect(body.error.requestId).toMatch(/^[0-9a-f-]{36}$/);
  expect(response.headers.get("x-request-id")).toBe(body.error.requestId);
  expect(await gateway.jobCount()).toBe(0);
}

describe("POST /notifications", () => {
  it("answers 202 with the job id and enqueues the validated payload with the retry policy", async () => {
    const response = await gateway.post({ ...VALID_NOTIFICATION, side: "buy" });
    expect(response.status).toBe(202);
    const body = (await response.json()) as { id: string; status: string };
    expect(body.status).toBe("queued");
    expect(body.id).toMatch(UUID);

    const job = await gateway.queue.getJob(body.id);
    expect(job?.name).toBe(TRADE_EXECUTED_JOB);
    expect(job?.data).toEqual({
      ...VALID_NOTIFICATION,
      side: "buy",
      currency: "USD",
      type: "trade.executed",
      // Amounts travel as exact decimal strings, whatever the producer sent.
      amount: String(VALID_NOTIFICATION.amount),
      quantity: String(VALID_NOTIFICATION.quantity),
      // The submitting key's public id: its notifications are its own to read and cancel.
      submittedBy: apiKeyId(TEST_API_KEY),
    });
    expect(job?.opts.attempts).toBe(4);
    expect(job?.opts.backoff).toEqual({
      type: "exponential",
      delay: DEFAULT_JOB_SETTINGS.backoffDelayMs,
    });
    // Kept once finished by the worker's retention (worker/job-retention.test.ts).
    expect(job?.opts.removeOnComplete).toBeUndefined();
    expect(job?.opts.removeOnFail).toBeUndefined();
    expect(await job?.getState()).toBe("waiting");
    expect(await gateway.jobCount()).toBe(1);
  });

  it("accepts the seed payload of existing backends (email only, no phone)", async () => {
    const { phone: _phone, ...seed } = VALID_NOTIFICATION;
    const response = await gateway.post(seed);
    expect(response.status).toBe(202);
  });

  it("accepts an SMS-only notification", async () => {
    const { to: _to, ...smsOnly } = VALID_NOTIFICATION;
    expect((await gateway.post(smsOnly)).status).toBe(202);
  });

  it("accepts the second of two rotated keys", async () => {
    const response = await gateway.post(VALID_NOTIFICATION, {
      authorization: `Bearer ${ROTATED_API_KEY}`,
    });
    expect(response.status).toBe(202);
  });

  it.each([
    ["an invalid email", { to: "not-an-email" }, "to: Invalid email address"],
    [
      "a phone that is not E.164",
      { phone: "202-555-0143" },
      "phone: must be an E.164 phone number such as +12025550143",
    ],
    ["a negative amount", { amount: -5 }, "amount: must be greater than 0"],
    ["a zero quantity", { quantity: 0 }, "quantity: must be greater than 0"],
    [
      "a non-numeric amount",
      { amount: "lots" },
      'amount: must be a decimal number (a JSON number or a string such as "0.00000001") with at most 18 digits before the point and 18 after',
    ],
    [
      "a quantity in exponent notation",
      { quantity: "2e-2" },
      'quantity: must be a decimal number (a JSON number or a string such as "0.00000001") with at most 18 digits before the point and 18 after',
    ],
    ["an unknown side", { side: "short" }, 'side: Invalid option: expected one of "buy"|"sell"'],
    [
      "a lowercase currency",
      { currency: "usd" },
      "currency: must be 3-5 capital letters, for example USD or USDT",
    ],
    ["an unknown field", { phnoe: "+12025550143" }, 'Unrecognized key: "phnoe"'],
  ])("answers 400 for %s", async (_name, change, message) => {
    await expectError(
      await gateway.post({ ...VALID_NOTIFICATION, ...change }),
      400,
      "BAD_REQUEST",
      message,
    );
  });

  it.each([
    [
      "a schemeless link as the order",
      { order: "bit.ly/3xYzAb" },
      "order: must not contain a link or email address: mail and SMS clients make them tappable",
    ],
    [
      "a sentence as the order",
      { order: "77. SECURITY ALERT: 5 BTC withdrawal pending. Not you? Call +1 800 555 0100 now" },
      "order: must not contain spaces or line breaks",
    ],
    [
      "a schemeless link as the asset",
      { asset: "bit.ly/evil-login" },
      "asset: must not contain a link or email address: mail and SMS clients make them tappable",
    ],
    [
      "a schemeless link as the fee asset",
      { fee: "1", feeAsset: "evil.co/claim" },
      "feeAsset: must not contain a link or email address: mail and SMS clients make them tappable",
    ],
    [
      "a Hangul filler in the order",
      { order: "order\u3164id" },
      "order: must not contain invisible, filler or control characters (found U+3164)",
    ],
    [
      "a braille blank as the order",
      { order: "\u2800" },
      "order: must not contain invisible, filler or control characters (found U+2800)",
    ],
    [
      "a Cyrillic look-alike in the order",
      { order: "ord\u0435r-1" },
      "order: must not mix letters of different scripts (Latin, Cyrillic): look-alikes",
    ],
    [
      "120 combining accents on one letter",
      { order: `o${"\u0301".repeat(120)}rder-1` },
      "order: must not stack more than 2 combining marks on a character",
    ],
  ])("answers 400 naming the field and the rule for %s", async (_name, change, message) => {
    await expectError(
      await gateway.post({ ...VALID_NOTIFICATION, ...change }),
      400,
      "BAD_REQUEST",
      message,
    );
  });

  it("accepts the ids of real orders and assets", async () => {
    for (const [order, asset] of [
      ["ord-8f3a2c1e", "BTC"],
      ["dep-7c20e4", "USDC.e"],
      ["order-id-123", "BTC-PERP"],
      ["wd-19ae33", "BRK.B"],
    ]) {
      const response = await gateway.post({ ...VALID_NOTIFICATION, order, asset, feeAsset: asset });
      expect(response.status, `${order} ${asset}`).toBe(202);
    }
    expect(await gateway.jobCount()).toBe(4);
  });

  it.each(["asset", "amount", "quantity", "order"])(
    "answers 400 when %s is missing",
    async (field) => {
      const body: Record<string, unknown> = { ...VALID_NOTIFICATION };
      delete body[field];
      await expectError(await gateway.post(body), 400, "BAD_REQUEST", `${field}: is required`);
    },
  );

  it("answers 400 when neither to nor phone is given", async () => {
    const { to: _to, phone: _phone, ...noRecipient } = VALID_NOTIFICATION;
    await expectError(
      await gateway.post(noRecipient),
      400,
      "BAD_REQUEST",
      "to: at least one of to or phone is required",
    );
  });

  it("answers 400 for malformed JSON", async () => {
    await expectError(
      await gateway.post('{"to": "user@example.com",'),
      400,
      "BAD_REQUEST",
      "Malformed JSON in request body",
    );
  });

  it("answers 400 for a JSON body that is not an object", async () => {
    await expectError(
      await gateway.post("[1,2,3]"),
      400,
      "BAD_REQUEST",
      "Invalid input: expected object, received array",
    );
  });

  it("answers 415 for a body that is not JSON", async () => {
    const response = await gateway.post("to=user@example.com", {
      "content-type": "application/x-www-form-urlencoded",
    });
    await expectError(response, 415, "UNSUPPORTED_MEDIA_TYPE", "Unsupported Media Type");
  });

  it("answers 415 for a body without a content type, and names the fields when there is no body", async () => {
    const untyped = (body?: string) =>
      gateway.app.request("/notifications", {
        method: "POST",
        headers: { authorization: `Bearer ${TEST_API_KEY}` },
        ...(body === undefined ? {} : { body }),
      });
    await expectError(
      await untyped(JSON.stringify(VALID_NOTIFICATION)),
      415,
      "UNSUPPORTED_MEDIA_TYPE",
      "Unsupported Media Type",
    );
    const empty = await untyped();
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as { error: { message: string } }).error.message).toContain(
      "asset: is required",
    );
    expect(await gateway.jobCount()).toBe(0);
  });

  it.each(["application/json; charset=utf-8", "Application/JSON"])(
    "accepts a JSON body sent as %s",
    async (contentType) => {
      const response = await gateway.post(VALID_NOTIFICATION, { "content-type": contentType });
      expect(response.status).toBe(202);
    },
  );

  it("answers 413 when the body exceeds 16 KiB", async () => {
    const response = await gateway.post({ ...VALID_NOTIFICATION, order: "x".repeat(17 * 1024) });
    await expectError(response, 413, "PAYLOAD_TOO_LARGE", "Request body exceeds 16384 bytes");
  });

  it.each([
    ["no Authorization header", {}],
    ["a wrong key", { authorization: "Bearer wrong-key-0123456789abcdef" }],
    ["a key without the Bearer scheme", { authorization: "test-key-0123456789abcdef" }],
    ["a Basic credential", { authorization: "Basic dGVzdDp0ZXN0" }],
  ])("answers 401 for %s", async (_name, headers) => {
    const response = await gateway.app.request("/notifications", {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(VALID_NOTIFICATION),
    });
    expect(response.headers.get("www-authenticate")).toBe('Bearer realm="notifications"');
    await expectError(response, 401, "UNAUTHORIZED", "Missing or invalid API key");
  });

  it("answers 503 at once, without hanging, while Redis is unreachable", async () => {
    const { app, close } = await createUnreachableGateway();
    const started = performance.now();
    const response = await app.request("/notifications", {
      method: "POST",
      headers: { authorization: `Bearer ${TEST_API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify(VALID_NOTIFICATION),
    });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(response.headers.get("retry-after")).toBe("1");
    await expectError(
      response,
      503,
      "SERVICE_UNAVAILABLE",
      "The notification queue is unavailable; retry later",
    );
    await close();
  });
});
