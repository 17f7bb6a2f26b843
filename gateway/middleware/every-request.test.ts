import { type ServerType, serve } from "@hono/node-server";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { freePort } from "../../scripts/redis-server.js";
import { createTestQueue } from "../../test/fixtures.js";
import { gatewayOver, TEST_API_KEY, VALID_NOTIFICATION } from "../../test/gateway-fixture.js";

/** What hono's secureHeaders() sets by default: the gateway must send each of them. */
const SECURITY_HEADERS = {
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "origin-agent-cluster": "?1",
  "referrer-policy": "no-referrer",
  "strict-transport-security": "max-age=15552000; includeSubDomains",
  "x-content-type-options": "nosniff",
  "x-dns-prefetch-control": "off",
  "x-download-options": "noopen",
  "x-frame-options": "SAMEORIGIN",
  "x-permitted-cross-domain-policies": "none",
  "x-xss-protection": "0",
};

let fixture: Awaited<ReturnType<typeof createTestQueue>>;
let server: ServerType | undefined;
beforeEach(async () => {
  fixture = await createTestQueue();
});
afterEach(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
  await fixture.cleanup();
});

/** The gateway served over real HTTP, as server.ts serves it. */
async function servedGateway(overrides: Parameters<typeof gatewayOver>[1] = {}): Promise<string> {
  const { app } = gatewayOver(fixture, overrides);
  const port = await freePort();
  server = serve({ fetch: app.fetch, port, hostname: "127.0.0.1" });
  await new Promise((resolve) => server?.once("listening", resolve));
  return `http://127.0.0.1:${port}`;
}

function expectSecurityHeaders(response: Response) {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
    expect(response.headers.get(name), name).toBe(value);
  }
  expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
}

describe("response headers over HTTP", () => {
  it("sends the security headers and a fresh request id with a 202", async () => {
    const url = await servedGateway();
    const response = await fetch(`${url}/notifications`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${TEST_API_KEY}`,
        "content-type": "application/json",
        "x-request-id": "someone-elses-request",
      },
      body: JSON.stringify(VALID_NOTIFICATION),
    });
    expect(response.status).toBe(202);
    expect(response.headers.get("content-type")).toBe("application/json");
    expectSecurityHeaders(response);
    expect(response.headers.get("x-request-id")).not.toBe("someone-elses-request");
  });

  it("sends them with an error too, whose body names the same request id", async () => {
    const url = await servedGateway();
    const response = await fetch(`${url}/notifications`, { method: "POST" });
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe('Bearer realm="notifications"');
    expectSecurityHeaders(response);
    const body = (await response.json()) as { error: { requestId: string } };
    expect(body.error.requestId).toBe(response.headers.get("x-request-id"));
  });

  it("sends them with 404, 413 and 415 answers, the OpenAPI document and the docs page", async () => {
    const url = await servedGateway();
    const notFound = await fetch(`${url}/no-such-route`);
    expect(notFound.status).toBe(404);
    expectSecurityHeaders(notFound);
    const post = (headers: Record<string, string>, body: string) =>
      fetch(`${url}/notifications`, {
        method: "POST",
        headers: { authorization: `Bearer ${TEST_API_KEY}`, ...headers },
        body,
      });
    const tooLarge = await post({ "content-type": "application/json" }, "x".repeat(100_000));
    expect(tooLarge.status).toBe(413);
    expectSecurityHeaders(tooLarge);
    const wrongType = await post({ "content-type": "text/plain" }, "{}");
    expect(wrongType.status).toBe(415);
    expect(wrongType.headers.get("content-type")).toBe("application/json");
    expectSecurityHeaders(wrongType);
    for (const path of ["/openapi.json", "/docs"]) {
      const page = await fetch(`${url}${path}`);
      expect(page.status, path).toBe(200);
      expectSecurityHeaders(page);
    }
  });

  it("gives every request its own id", async () => {
    const url = await servedGateway();
    const ids = await Promise.all(
      Array.from({ length: 5 }, async () =>
        (await fetch(`${url}/healthz`)).headers.get("x-request-id"),
      ),
    );
    expect(new Set(ids).size).toBe(5);
  });
});

describe("a route's own headers over HTTP", () => {
  async function postOver(url: string, idempotencyKey: string) {
    return fetch(`${url}/notifications`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${TEST_API_KEY}`,
        "content-type": "application/json",
        "idempotency-key": idempotencyKey,
      },
      body: JSON.stringify(VALID_NOTIFICATION),
    });
  }

  it("sends the per-key limit's headers and Idempotent-Replayed beside the security headers", async () => {
    const url = await servedGateway();
    const first = await postOver(url, "order-1-fill-1");
    expect(first.status).toBe(202);
    expect(first.headers.get("ratelimit-limit")).toBe("1200");
    expect(first.headers.get("ratelimit-remaining")).toBe("1199");
    expect(first.headers.get("ratelimit-reset")).toBe("60");
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    expect(first.headers.get("content-type")).toBe("application/json");
    expectSecurityHeaders(first);

    const repeat = await postOver(url, "order-1-fill-1");
    expect(repeat.status).toBe(202);
    expect(repeat.headers.get("idempotent-replayed")).toBe("true");
    expect(repeat.headers.get("ratelimit-remaining")).toBe("1198");
    expect(await repeat.json()).toEqual(await first.json());
    expectSecurityHeaders(repeat);
  });

  it("sends a 429 with Retry-After and its own limit headers, and a HEAD its headers", async () => {
    const url = await servedGateway({
      limits: { perKeyPerMinute: 1, authFailuresPerMinute: 20 },
    });
    expect((await postOver(url, "first")).status).toBe(202);
    const limited = await postOver(url, "second");
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(limited.headers.get("ratelimit-remaining")).toBe("0");
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe(
      "TOO_MANY_REQUESTS",
    );
    expectSecurityHeaders(limited);

    const head = await fetch(`${url}/healthz`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expectSecurityHeaders(head);
  });

  it("sends the limit's headers with a validation error too", async () => {
    const url = await servedGateway();
    const response = await fetch(`${url}/notifications`, {
      method: "POST",
      headers: { authorization: `Bearer ${TEST_API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ ...VALID_NOTIFICATION, asset: "" }),
    });
    expect(response.status).toBe(400);
    expect(response.headers.get("ratelimit-remaining")).toBe("1199");
    expectSecurityHeaders(response);
  });
});

describe("response headers in-process (app.request)", () => {
  it("puts the same headers on the Response", async () => {
    const { app } = gatewayOver(fixture);
    const response = await app.request("/healthz");
    expectSecurityHeaders(response);
  });
});
