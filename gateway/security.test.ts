import { createHash } from "node:crypto";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { notificationPayloadSchema } from "../contract/notification-job.js";
import { createTestQueue } from "../test/fixtures.js";
import {
  gatewayOver,
  TEST_API_KEY,
  type TestGateway,
  VALID_NOTIFICATION,
} from "../test/gateway-fixture.js";

let fixture: Awaited<ReturnType<typeof createTestQueue>>;
beforeEach(async () => {
  fixture = await createTestQueue();
});
afterEach(async () => {
  await fixture.cleanup();
});

function post(
  gateway: TestGateway,
  authorization: string | undefined,
  body: unknown = VALID_NOTIFICATION,
  headers: Record<string, string> = {},
) {
  return gateway.app.request("/notifications", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(authorization ? { authorization } : {}),
      ...headers,
    },
    body: JSON.stringify(body),
  });
}

describe("authentication", () => {
  it("answers every kind of bad key with the same 401 body", async () => {
    const gateway = gatewayOver(fixture, {
      apiKeys: [TEST_API_KEY, "revoked-but-not-listed"].slice(0, 1),
    });
    const bodies: unknown[] = [];
    for (const authorization of [
      undefined,
      "Bearer wrong-key-0123456789abcdef",
      `Bearer  ${TEST_API_KEY}`,
      `Bearer ${TEST_API_KEY.toUpperCase()}`,
      `bearer ${TEST_API_KEY}`,
      "Bearer rotated-key-0123456789abcdef", // revoked: no longer in API_KEYS
    ]) {
      const response = await post(gateway, authorization);
      expect(response.status, String(authorization)).toBe(401);
      const { error } = (await response.json()) as { error: Record<string, string> };
      bodies.push({ ...error, requestId: "-" });
    }
    expect(new Set(bodies.map((body) => JSON.stringify(body))).size).toBe(1);
    expect(await fixture.queue.count()).toBe(0);
  });

  it("accepts a key given only as its SHA-256 digest (API_KEY_HASHES)", async () => {
    const key = "hashed-key-0123456789abcdef";
    const digest = createHash("sha256").update(key).digest("hex");
    const gateway = gatewayOver(fixture, { apiKeys: [], apiKeyHashes: [digest] });
    expect((await post(gateway, `Bearer ${key}`)).status).toBe(202);
    expect((await post(gateway, `Bearer ${digest}`)).status).toBe(401);
  });

  it("slows a guessing client with 429 after too many failures, but never locks out a valid key from the same address", async () => {
    const gateway = gatewayOver(fixture, {
      limits: { perKeyPerMinute: 0, authFailuresPerMinute: 5 },
    });
    for (let i = 0; i < 5; i++)
      expect((await post(gateway, "Bearer nope-nope-nope-nope")).status).toBe(401);
    const blocked = await post(gateway, "Bearer nope-nope-nope-nope");
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get("retry-after")).toBe("60");
    expect(((await blocked.json()) as { error: { code: string } }).error.code).toBe(
      "TOO_MANY_REQUESTS",
    );
    // Behind one proxy every caller shares an address: a valid key still gets through.
    expect((await post(gateway, `Bearer ${TEST_API_KEY}`)).status).toBe(202);
  });

  it("takes the client from the rightmost untrusted hop: a spoofed X-Forwarded-For entry neither escapes the count nor blocks a victim", async () => {
    const gateway = gatewayOver(fixture, {
      limits: {
        perKeyPerMinute: 0,
        authFailuresPerMinute: 3,
        clientIpHeader: "x-forwarded-for",
        trustedProxyHops: 1,
      },
    });
    // The attacker writes a new leftmost entry each time; the load balancer appends the real one.
    for (let i = 0; i < 3; i++) {
      const response = await post(gateway, "Bearer nope-nope-nope-nope", VALID_NOTIFICATION, {
        "x-forwarded-for": `10.0.0.${i}, 203.0.113.7`,
      });
      expect(response.status).toBe(401);
    }
    const rotated = await post(gateway, "Bearer nope-nope-nope-nope", VALID_NOTIFICATION, {
      "x-forwarded-for": "10.9.9.9, 203.0.113.7",
    });
    expect(rotated.status).toBe(429);
    // The spoofed addresses were never counted: a client really at 10.0.0.1 gets a plain 401.
    const victim = await post(gateway, "Bearer typo-typo-typo-typo", VALID_NOTIFICATION, {
      "x-forwarded-for": "10.0.0.1",
    });
    expect(victim.status).toBe(401);
  });
});

describe("rate limit per API key", () => {
  it("answers 429 with Retry-After past the limit, and RateLimit-* headers on every answer", async () => {
    const gateway = gatewayOver(fixture, {
      limits: { perKeyPerMinute: 3, authFailuresPerMinute: 20 },
    });
    for (let i = 0; i < 3; i++) {
      const response = await post(gateway, `Bearer ${TEST_API_KEY}`);
      expect(response.status).toBe(202);
      expect(response.headers.get("ratelimit-limit")).toBe("3");
      expect(response.headers.get("ratelimit-remaining")).toBe(String(2 - i));
    }
    const limited = await post(gateway, `Bearer ${TEST_API_KEY}`);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(limited.headers.get("ratelimit-remaining")).toBe("0");
    expect(await fixture.queue.count()).toBe(3);
    // Another key has its own budget.
    const other = gatewayOver(fixture, {
      apiKeys: ["second-key-0123456789abcdef"],
      limits: { perKeyPerMinute: 3, authFailuresPerMinute: 20 },
    });
    expect((await post(other, "Bearer second-key-0123456789abcdef")).status).toBe(202);
  });
});

describe("headers", () => {
  it("sends security headers and no X-Powered-By; CORS stays closed", async () => {
    const gateway = gatewayOver(fixture);
    const response = await gateway.app.request("/healthz");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("x-frame-options")).toBe("SAMEORIGIN");
    expect(response.headers.get("strict-transport-security")).toContain("max-age=");
    expect(response.headers.get("x-powered-by")).toBeNull();
    const preflight = await gateway.app.request("/notifications", {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
    });
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("hostile input (property-based)", () => {
  const field = fc.oneof(
    fc.string(),
    fc.string({ unit: "grapheme" }),
    fc.double(),
    fc.integer(),
    fc.constantFrom(
      "NaN",
      "Infinity",
      "-1e309",
      "1e309",
      "\r\nBcc: x@evil.test",
      "__proto__",
      "<script>",
    ),
    fc.constant(null),
    fc.array(fc.string(), { maxLength: 3 }),
    fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }),
  );
  const body = fc.oneof(
    fc.record(
      {
        to: field,
        phone: field,
        asset: field,
        amount: field,
        quantity: field,
        order: field,
        side: field,
        currency: field,
      },
      { requiredKeys: [] },
    ),
    fc.record({
      ...Object.fromEntries(
        Object.entries(VALID_NOTIFICATION).map(([k, v]) => [k, fc.oneof(fc.constant(v), field)]),
      ),
    }),
    fc.jsonValue(),
    fc.constantFrom(
      '{"__proto__": {"polluted": true}, "asset": "BTC"}',
      '{"constructor": {"prototype": {"x": 1}}}',
    ),
  );

  it("answers 2xx or 4xx, never 5xx, and queues only payloads the worker accepts", async () => {
    const gateway = gatewayOver(fixture, {
      limits: { perKeyPerMinute: 0, authFailuresPerMinute: 20 },
    });
    await fc.assert(
      fc.asyncProperty(body, async (candidate) => {
        const response = await gateway.app.request("/notifications", {
          method: "POST",
          headers: { authorization: `Bearer ${TEST_API_KEY}`, "content-type": "application/json" },
          body: typeof candidate === "string" ? candidate : JSON.stringify(candidate),
        });
        expect([202, 400, 413]).toContain(response.status);
        if (response.status === 202) {
          const { id } = (await response.json()) as { id: string };
          const job = await fixture.queue.getJob(id);
          expect(notificationPayloadSchema.safeParse(job?.data).success).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe("what a request can put into a customer's message", () => {
  it.each([
    ["a right-to-left override", "order-\u202Egnp.exe"],
    ["a zero-width space", "order\u200B-1"],
    ["a line separator", "order\u2028Call +1-800-555-0100"],
    ["a newline", "order\nCall us"],
    ["a link", "see https://evil.example/claim"],
    ["a bare www link", "www.evil.example"],
    ["a schemeless link", "bit.ly/3xYzAb"],
    [
      "a sentence",
      "77. SECURITY ALERT: 5 BTC withdrawal pending. Not you? Call +1 800 555 0100 now",
    ],
    ["a Hangul filler", "order\u3164-1"],
    ["a braille blank", "order\u2800-1"],
    ["a Cyrillic look-alike", "ord\u0435r-1"],
    ["120 combining accents on one letter", `o${"\u0301".repeat(120)}rder-1`],
  ])("refuses an order with %s (400), single and in a batch", async (_name, order) => {
    const gateway = gatewayOver(fixture);
    const single = await post(gateway, `Bearer ${TEST_API_KEY}`, { ...VALID_NOTIFICATION, order });
    expect(single.status).toBe(400);
    const batch = await gateway.app.request("/notifications/batch", {
      method: "POST",
      headers: { authorization: `Bearer ${TEST_API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ notifications: [{ ...VALID_NOTIFICATION, order }] }),
    });
    expect(((await batch.json()) as { rejected: number }).rejected).toBe(1);
    expect(await fixture.queue.count()).toBe(0);
  });

  it("refuses unknown fields on the batch envelope as the single route does", async () => {
    const gateway = gatewayOver(fixture);
    const response = await gateway.app.request("/notifications/batch", {
      method: "POST",
      headers: { authorization: `Bearer ${TEST_API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ notifications: [VALID_NOTIFICATION], sendAt: "tomorrow" }),
    });
    expect(response.status).toBe(400);
    expect(await fixture.queue.count()).toBe(0);
  });

  it("never reuses a client's X-Request-Id", async () => {
    const gateway = gatewayOver(fixture);
    const response = await gateway.app.request("/healthz", {
      headers: { "x-request-id": "someone-elses-request" },
    });
    const id = response.headers.get("x-request-id");
    expect(id).not.toBe("someone-elses-request");
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
  });
});
