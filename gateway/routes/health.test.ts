import { describe, expect, it } from "vitest";
import { createTestGateway, createUnreachableGateway } from "../../test/gateway-fixture.js";

describe("health probes", () => {
  it("answers /healthz and /readyz with 200 while Redis is connected, without an API key", async () => {
    const gateway = await createTestGateway();
    try {
      const live = await gateway.app.request("/healthz");
      expect(live.status).toBe(200);
      expect(await live.json()).toEqual({ status: "ok" });
      const ready = await gateway.app.request("/readyz");
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: "ready", redis: "ready" });
    } finally {
      await gateway.cleanup();
    }
  });

  it("answers /readyz with 503 while Redis is unreachable, while /healthz stays 200", async () => {
    const gateway = await createUnreachableGateway();
    try {
      const ready = await gateway.app.request("/readyz");
      expect(ready.status).toBe(503);
      const body = (await ready.json()) as { status: string; redis: string };
      expect(body.status).toBe("unavailable");
      expect(["connecting", "reconnecting"]).toContain(body.redis);
      expect((await gateway.app.request("/healthz")).status).toBe(200);
    } finally {
      await gateway.close();
    }
  });

  it("answers unknown routes with 404 in the error shape", async () => {
    const gateway = await createTestGateway();
    try {
      const response = await gateway.app.request("/nope");
      expect(response.status).toBe(404);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error).toMatchObject({ code: "NOT_FOUND", message: "No route for GET /nope" });
    } finally {
      await gateway.cleanup();
    }
  });
});
