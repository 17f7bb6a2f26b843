import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../scripts/redis-server.js";
import { type FakeResend, startFakeResend } from "./fakes/resend.js";
import { type FakeTwilio, startFakeTwilio } from "./fakes/twilio.js";
import { eventually, redisUrl } from "./fixtures.js";
import { postNotification, TEST_API_KEY } from "./gateway-fixture.js";
import { type ServiceProcess, startNodeProcess } from "./support/processes.js";
import { providerEnv } from "./worker-fixture.js";

/**
 * Builds the production bundle the way the Dockerfile does (compile, then `npm ci --omit=dev`
 * in a clean folder) and runs both processes from it with NODE_ENV=production: a runtime
 * dependency that is only in devDependencies makes this fail.
 */
describe("the production bundle", () => {
  let dir: string;
  let resend: FakeResend;
  let twilio: FakeTwilio;
  const processes: ServiceProcess[] = [];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "notify-bundle-"));
    execFileSync("npx", ["tsc", "-p", "tsconfig.build.json", "--outDir", join(dir, "dist")], {
      stdio: "pipe",
    });
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

  it("starts the gateway and the worker in production and delivers a notification", async () => {
    resend = await startFakeResend();
    twilio = await startFakeTwilio();
    const port = await freePort();
    const env = {
      NODE_ENV: "production",
      REDIS_URL: redisUrl(),
      QUEUE_PREFIX: `bundle-${crypto.randomUUID()}`,
      API_KEYS: TEST_API_KEY,
      PORT: String(port),
      // Unwritable, as the working directory is under the image's USER node: production must
      // never touch the development outbox.
      DEV_OUTBOX_DIR: "/proc/no-outbox-here",
      ...providerEnv(resend, twilio),
    };
    const gateway = startNodeProcess("gateway", [join(dir, "dist/gateway/server.js")], env);
    const worker = startNodeProcess("worker", [join(dir, "dist/worker/index.js")], env);
    processes.push(gateway, worker);
    await gateway.waitForLine(/gateway listening/);
    await worker.waitForLine(/worker ready/);

    const response = await postNotification(`http://127.0.0.1:${port}`);
    expect(response.status).toBe(202);
    await eventually(() => {
      expect(resend.emails).toHaveLength(1);
      expect(twilio.messages).toHaveLength(1);
    });
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
