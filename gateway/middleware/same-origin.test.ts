import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { testLogger } from "../../test/fixtures.js";
import { createErrorHandler } from "../error-handler.js";
import { requireSameOrigin } from "./same-origin.js";

const URL = "https://ops.example.com/admin/queues/api/queues/notifications/pause";
const OWN_ORIGIN = "https://ops.example.com";

function app() {
  return new Hono()
    .use(requireSameOrigin())
    .all("*", (c) => c.text("done"))
    .onError(createErrorHandler(testLogger()));
}

async function status(method: string, headers: Record<string, string>, body?: string) {
  const response = await app().request(URL, { method, headers, body });
  if (response.status === 403) {
    expect(await response.json()).toMatchObject({ error: { code: "FORBIDDEN" } });
  }
  return response.status;
}

describe("requireSameOrigin", () => {
  it("lets reads through from anywhere", async () => {
    for (const method of ["GET", "HEAD", "OPTIONS"]) {
      expect(await status(method, { "sec-fetch-site": "cross-site" }), method).toBe(200);
    }
  });

  it("trusts Sec-Fetch-Site when the browser sends it: only same-origin passes", async () => {
    const json = { "content-type": "application/json" };
    expect(await status("POST", { "sec-fetch-site": "same-origin", ...json }, "{}")).toBe(200);
    for (const site of ["same-site", "cross-site", "none", "bogus"]) {
      // A matching Origin does not overrule what Sec-Fetch-Site says.
      const headers = { "sec-fetch-site": site, origin: OWN_ORIGIN, ...json };
      expect(await status("POST", headers, "{}"), site).toBe(403);
    }
  });

  it("falls back to Origin, which must be the request's own scheme and host", async () => {
    const json = { "content-type": "application/json" };
    expect(await status("PUT", { origin: OWN_ORIGIN, ...json }, "{}")).toBe(200);
    for (const origin of [
      "https://evil.example",
      "http://ops.example.com", // another scheme is another origin
      "https://ops.example.com:8443",
      "https://ops.example.com.evil.example",
      "null",
    ]) {
      expect(await status("PUT", { origin, ...json }, "{}"), origin).toBe(403);
    }
    expect(await status("PUT", json, "{}")).toBe(403); // neither header: refused
  });

  it("requires JSON bodies, even from the page's own origin", async () => {
    const own = { "sec-fetch-site": "same-origin" };
    for (const contentType of [
      "application/json",
      "application/json; charset=utf-8",
      "Application/JSON",
    ]) {
      expect(await status("POST", { ...own, "content-type": contentType }, "{}"), contentType).toBe(
        200,
      );
    }
    for (const contentType of [
      "text/plain",
      "text/plain;charset=UTF-8",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      "application/jsonx",
      "application/json-patch+json",
    ]) {
      expect(await status("POST", { ...own, "content-type": contentType }, "{}"), contentType).toBe(
        403,
      );
    }
  });

  it("accepts a state change without a body, but not an untyped body", async () => {
    const own = { "sec-fetch-site": "same-origin" };
    expect(await status("PUT", own)).toBe(200);
    expect(await status("PUT", { ...own, "content-length": "0" })).toBe(200);
    expect(await status("PUT", { ...own, "content-length": "2" })).toBe(403);
    expect(await status("PUT", { ...own, "transfer-encoding": "chunked" })).toBe(403);
  });
});
