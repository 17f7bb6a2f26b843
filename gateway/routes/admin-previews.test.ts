import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { NOTIFICATION_TYPES } from "../../contract/notification-job.js";
import { DEFAULT_MESSAGE_ENV } from "../../rendering/message-env.js";
import { SHIPPED_CATALOGS } from "../../rendering/shipped-catalogs.js";
import { createTestQueue } from "../../test/fixtures.js";
import { gatewayOver } from "../../test/gateway-fixture.js";
import { LOGIN_FAILURES_ALLOWED } from "./admin-dashboard.js";

const ADMIN = { user: "ops", password: "correct horse battery staple" };
const LOGGED_IN = {
  authorization: `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString("base64")}`,
};
const WRONG = { authorization: `Basic ${Buffer.from("ops:wrong-password!!").toString("base64")}` };

let fixture: Awaited<ReturnType<typeof createTestQueue>>;
beforeEach(async () => {
  fixture = await createTestQueue();
});
afterEach(async () => {
  await fixture.cleanup();
});

describe("GET /admin/previews", () => {
  it("asks for the admin login, and is absent without an admin configured", async () => {
    const { app } = gatewayOver(fixture, { admin: ADMIN });
    const anonymous = await app.request("/admin/previews");
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toContain("Basic");
    expect((await app.request("/admin/previews/trade.executed/en")).status).toBe(401);
    const off = gatewayOver(fixture).app;
    expect((await off.request("/admin/previews", { headers: LOGGED_IN })).status).toBe(404);
  });

  it("shares the dashboard's failed-login count", async () => {
    const { app } = gatewayOver(fixture, { admin: ADMIN });
    for (let i = 0; i < LOGIN_FAILURES_ALLOWED; i++) {
      const path = i % 2 === 0 ? "/admin/queues" : "/admin/previews";
      expect((await app.request(path, { headers: WRONG })).status).toBe(401);
    }
    expect((await app.request("/admin/previews", { headers: LOGGED_IN })).status).toBe(429);
  });

  it("lists every type in every locale with its subject and SMS, with the deployment's brand", async () => {
    const { app } = gatewayOver(fixture, {
      admin: ADMIN,
      messages: { ...DEFAULT_MESSAGE_ENV, BRAND_NAME: "Northwind <X>" },
    });
    const response = await app.request("/admin/previews", { headers: LOGGED_IN });
    expect(response.status).toBe(200);
    const page = await response.text();
    const locales = Object.keys(SHIPPED_CATALOGS);
    expect(page.match(/<tr>\s*<td>/g)).toHaveLength(locales.length * NOTIFICATION_TYPES.length);
    for (const locale of locales) {
      for (const type of NOTIFICATION_TYPES) {
        expect(page).toContain(`href="/admin/previews/${type}/${encodeURIComponent(locale)}"`);
      }
    }
    expect(page).toContain(
      "Northwind &lt;X&gt;: You bought 0.0235 BTC for $1,523.75. Order ord-8f3a2c1e",
    );
    expect(page).toContain("GSM-7, 1 segment(s)");
  });

  it("serves each email under a policy that lets nothing run, and its text part", async () => {
    const { app } = gatewayOver(fixture, { admin: ADMIN });
    const email = await app.request("/admin/previews/withdrawal.sent/ja", { headers: LOGGED_IN });
    expect(email.status).toBe(200);
    expect(email.headers.get("content-security-policy")).toBe(
      "default-src 'none'; img-src https: data:; style-src 'unsafe-inline'",
    );
    const body = await email.text();
    expect(body).toContain('<html lang="ja"');
    expect(body).toContain("お心当たりがない場合は");
    const text = await app.request("/admin/previews/withdrawal.sent/ja/text", {
      headers: LOGGED_IN,
    });
    expect(await text.text()).toContain("数量: 0.15\n");
  });

  it("answers 404 in the API's error shape for a type or locale it does not have", async () => {
    const { app } = gatewayOver(fixture, { admin: ADMIN });
    const response = await app.request("/admin/previews/trade.executed/xx", { headers: LOGGED_IN });
    expect(response.status).toBe(404);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("NOT_FOUND");
    expect(body.error.message).toBe("No preview of trade.executed in xx");
  });
});

describe("the gateway's start", () => {
  it("does not load the catalogs (or MJML, which no process loads now) until a preview is asked for", async () => {
    // Every module the process resolves, before and after the preview module is loaded (the
    // second list proves the hook sees them).
    const script = `
      import { registerHooks } from "node:module";
      const seen = [];
      registerHooks({ resolve(specifier, context, next) {
        const resolved = next(specifier, context);
        seen.push(resolved.url);
        return resolved;
      } });
      const heavy = () => seen.filter((url) => /mjml|intl-messageformat/.test(url)).length;
      await import("./gateway/app.ts");
      const atStart = heavy();
      await import("./rendering/previews.ts");
      console.log(JSON.stringify([atStart, heavy() > 0]));
    `;
    // Asynchronously: a blocked event loop would time out the Redis fixture's commands.
    const { stdout } = await promisify(execFile)("npx", [
      "tsx",
      "--input-type=module",
      "-e",
      script,
    ]);
    expect(JSON.parse(stdout.trim().split("\n").at(-1) ?? "null")).toEqual([0, true]);
  }, 60_000);
});
