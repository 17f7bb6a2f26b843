import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUNDLES, bundle } from "../scripts/bundle.js";
import { freePort } from "../scripts/redis-server.js";
import { newWebhookSecret } from "./fakes/events-backend.js";
import { type FakeResend, startFakeResend } from "./fakes/resend.js";
import { type FakeTwilio, startFakeTwilio } from "./fakes/twilio.js";
import { eventually, redisUrl } from "./fixtures.js";
import { postNotification } from "./gateway-fixture.js";
import { type ServiceProcess, startNodeProcess, waitForGatewayReady } from "./support/processes.js";
import { providerEnv } from "./worker-fixture.js";

/**
 * Builds the production bundle the way the Dockerfile does (`npm run build`'s bundles, then
 * `npm ci --omit=dev` in a clean folder) and runs both processes from it with
 * NODE_ENV=production: a runtime dependency that is only in devDependencies, or a package the
 * bundles leave to node_modules that is missing there, makes this fail.
 */
/** Strong enough for production's check (at least 16 characters, rated 4 of 4). */
const ADMIN_PASSWORD = "bundle-test-admin-password-7f3a";
/** A generated key, as production wants: the fixtures' keys are words and sequences. */
const API_KEY = randomBytes(32).toString("hex");

describe("the production bundle", () => {
  let dir: string;
  let resend: FakeResend;
  let twilio: FakeTwilio;
  const processes: ServiceProcess[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "notify-bundle-"));
    await bundle(join(dir, "dist"));
    copyFileSync("package.json", join(dir, "package.json"));
    copyFileSync("package-lock.json", join(dir, "package-lock.json"));
    execFileSync("npm", ["ci", "--omit=dev", "--no-audit", "--no-fund"], {
      cwd: dir,
      stdio: "pipe",
    });
  }, 240_000);

  afterAll(async () => {
    await Promise.all(processes.map((child) => child.stop("SIGKILL")));
    await Promise.all([resend?.close(), twilio?.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it("is one file per process, with what only some requests need in chunks of its own", () => {
    const files = readdirSync(join(dir, "dist")).filter((file) => file.endsWith(".mjs"));
    expect(files.sort()).toEqual(Object.keys(BUNDLES).map((file) => basename(file)));
    const gateway = readFileSync(join(dir, "dist/gateway.mjs"), "utf8");
    // The tracing SDK and @hono/otel (tracing on only), Scalar's page (GET /docs), the resend
    // SDK (its webhook only).
    for (const lazy of [
      "BatchSpanProcessor",
      "httpInstrumentationMiddleware",
      "getHtmlDocument",
      "Missing API key. Pass it to the constructor",
    ]) {
      expect(gateway).not.toContain(lazy);
      const chunks = readdirSync(join(dir, "dist/gateway-chunks")).filter((f) =>
        f.endsWith(".mjs"),
      );
      const inChunks = chunks.filter((chunk) =>
        readFileSync(join(dir, "dist/gateway-chunks", chunk), "utf8").includes(lazy),
      );
      expect(inChunks, lazy).toHaveLength(1);
    }
    // The twilio SDK (about 0.2 s and 27 MB to load) only once a Twilio webhook arrives; it stays
    // in node_modules (scripts/bundle.ts), so the gateway imports it by name, on first use.
    expect(gateway).not.toMatch(/import\s*\w+\s*from\s*"twilio"/);
    expect(gateway).toContain('import("twilio")');
  });

  it("starts the gateway and the worker in production and delivers a notification", async () => {
    const port = await freePort();
    // Resend's signed events to the gateway too, whose resend SDK is loaded on the first one.
    const resendWebhookSecret = newWebhookSecret();
    resend = await startFakeResend({
      webhook: { url: `http://127.0.0.1:${port}/webhooks/resend`, secret: resendWebhookSecret },
      // A refused event fails the test at once instead of waiting out Svix's retry schedule.
      webhookRetryDelaysMs: [],
    });
    twilio = await startFakeTwilio();
    const env = {
      NODE_ENV: "production",
      REDIS_URL: redisUrl(),
      QUEUE_PREFIX: `bundle-${crypto.randomUUID()}`,
      API_KEYS: API_KEY,
      PORT: String(port),
      // Status callbacks on: the fake Twilio posts them, signed, to the gateway, whose twilio
      // SDK is loaded from the production install on the first one.
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      // Unwritable, as the working directory is under the image's USER node: production must
      // never touch the development outbox.
      DEV_OUTBOX_DIR: "/proc/no-outbox-here",
      ...providerEnv(resend, twilio),
    };
    const gateway = startNodeProcess("gateway", [join(dir, "dist/gateway.mjs")], {
      ...env,
      RESEND_WEBHOOK_SECRET: resendWebhookSecret,
      ADMIN_USER: "operator",
      ADMIN_PASSWORD,
    });
    const worker = startNodeProcess("worker", [join(dir, "dist/worker.mjs")], env);
    processes.push(gateway, worker);
    await waitForGatewayReady(gateway, port);
    await worker.waitForLine(/worker ready/);

    const baseUrl = `http://127.0.0.1:${port}`;
    const response = await postNotification(baseUrl, undefined, {
      authorization: `Bearer ${API_KEY}`,
    });
    expect(response.status).toBe(202);
    // The security, request-id and limit headers, as the production server sends them.
    expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers.get("strict-transport-security")).toBe(
      "max-age=15552000; includeSubDomains",
    );
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("ratelimit-limit")).toBe("1200");
    expect(response.headers.get("content-type")).toBe("application/json");
    const notFound = await fetch(`${baseUrl}/no-such-route`);
    expect(notFound.status).toBe(404);
    expect(notFound.headers.get("x-frame-options")).toBe("SAMEORIGIN");
    // What the bundle loads on first use, and the packages it leaves to node_modules.
    expect((await fetch(`${baseUrl}/openapi.json`)).status).toBe(200);
    expect((await fetch(`${baseUrl}/docs`)).status).toBe(200);
    const scalar = await fetch(`${baseUrl}/docs/scalar.js`);
    expect(scalar.status).toBe(200);
    expect((await scalar.text()).length).toBeGreaterThan(100_000);
    const dashboard = await fetch(`${baseUrl}/admin/queues`, {
      headers: { authorization: `Basic ${btoa(`operator:${ADMIN_PASSWORD}`)}` },
    });
    expect(dashboard.status).toBe(200);
    expect(await dashboard.text()).toContain("<script");
    await eventually(() => {
      expect(resend.emails).toHaveLength(1);
      expect(twilio.messages).toHaveLength(1);
      expect(twilio.callbacks.length).toBeGreaterThanOrEqual(1);
    });
    await eventually(() => expect(resend.webhooks.length).toBeGreaterThanOrEqual(1));
    await Promise.all([twilio.callbacksIdle(), resend.webhooksIdle()]);
    // Each provider's signed events verified by its SDK, which the gateway loaded on the first.
    expect(new Set(twilio.callbacks.map((callback) => callback.status))).toEqual(new Set([200]));
    expect(new Set(resend.webhooks.map((delivery) => delivery.status))).toEqual(new Set([200]));
    // Production logs are JSON lines, not pino-pretty (a dev dependency).
    expect(() => JSON.parse(gateway.lines[0] ?? "")).not.toThrow();
    expect(await worker.stop("SIGTERM")).toBe(0);
    expect(await gateway.stop("SIGTERM")).toBe(0);
    // A clean production run logs nothing at error level or above: no crash, no unhandled rejection.
    for (const process of [gateway, worker]) {
      expect(process.lines.filter((line) => /"level":(50|60)/.test(line))).toEqual([]);
    }
  });
});
