import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestGateway, type TestGateway } from "../../test/gateway-fixture.js";

let gateway: TestGateway;
// biome-ignore lint/suspicious/noExplicitAny: a parsed OpenAPI document
type Doc = any;
let doc: Doc;
beforeAll(async () => {
  gateway = await createTestGateway();
  // BullMQ's connection check (an INFO) must be answered before the validator below holds the
  // event loop for a second: the gateway's connection times commands out after one.
  await gateway.queue.waitUntilReady();
  const response = await gateway.app.request("/openapi.json");
  expect(response.status).toBe(200);
  doc = await response.json();
});
afterAll(async () => {
  await gateway.cleanup();
});

/** Routes that describe or watch the service rather than being its API. */
const NOT_API = ["/openapi.json", "/docs", "/docs/scalar.js", "/metrics"];

describe("GET /openapi.json", () => {
  it("is a valid OpenAPI 3.1 document for an independent validator", async () => {
    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  it("describes every route the app serves", () => {
    const served = gateway.app.routes
      .filter((route) => route.method !== "ALL" && !NOT_API.includes(route.path))
      .map((route) => `${route.method.toLowerCase()} ${route.path.replace(/:(\w+)/g, "{$1}")}`);
    const documented = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item as object).map((method) => `${method} ${path}`),
    );
    expect(served.length).toBeGreaterThan(5);
    for (const route of new Set(served)) expect(documented).toContain(route);
  });

  it("declares the bearer scheme on every notification route and the error shape on every 4xx/5xx", () => {
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({
      type: "http",
      scheme: "bearer",
    });
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(
        item as Record<string, Record<string, unknown>>,
      )) {
        if (path.startsWith("/notifications")) {
          expect(operation.security, `${method} ${path}`).toEqual([{ bearerAuth: [] }]);
          expect(Object.keys(operation.responses as object), `${method} ${path}`).toEqual(
            expect.arrayContaining(["401", "429", "503"]),
          );
        }
        for (const [status, response] of Object.entries(
          operation.responses as Record<string, Doc>,
        )) {
          if (Number(status) >= 400 && path !== "/readyz") {
            expect(
              response.content?.["application/json"]?.schema,
              `${method} ${path} ${status}`,
            ).toEqual({
              $ref: "#/components/schemas/Error",
            });
          }
        }
      }
    }
  });

  it("gives the create route a request example and its 202 body", () => {
    const create = doc.paths["/notifications"].post;
    expect(create.requestBody.content["application/json"].example).toMatchObject({ asset: "BTC" });
    expect(create.responses["202"].content["application/json"].schema).toEqual({
      $ref: "#/components/schemas/NotificationAccepted",
    });
  });
});

describe("GET /docs", () => {
  it("serves Scalar's reference page for the document, with its script from the gateway itself", async () => {
    const page = await gateway.app.request("/docs");
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("/openapi.json");
    expect(html).toContain('src="/docs/scalar.js"');
    const script = await gateway.app.request("/docs/scalar.js");
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toContain("javascript");
    expect((await script.text()).length).toBeGreaterThan(100_000);
  });
});
