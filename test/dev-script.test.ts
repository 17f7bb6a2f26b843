import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../scripts/redis-server.js";
import { eventually } from "./fixtures.js";
import { postNotification, VALID_NOTIFICATION } from "./gateway-fixture.js";

function portIsOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

describe("npm run dev", () => {
  let dataDir: string;
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it("runs the whole flow with nothing configured: private Redis, generated key, printed messages", async () => {
    dataDir = mkdtempSync(join(tmpdir(), "notify-dev-"));
    const port = await freePort();
    // Only PATH and what the test chooses: no REDIS_URL, no API_KEYS, no provider keys.
    const dev = spawn(process.execPath, ["--import", "tsx", "scripts/dev.ts"], {
      env: {
        PATH: process.env.PATH ?? "",
        PORT: String(port),
        DEV_DATA_DIR: dataDir,
        NODE_ENV: "test",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    dev.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    dev.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => dev.once("exit", resolve));

    const key = await eventually(
      () => {
        const match = /development API key: (dev_[0-9a-f]{32})/.exec(output);
        if (!match?.[1]) throw new Error(`no key yet:\n${output}`);
        return match[1];
      },
      { timeout: 15_000 },
    );
    const redisPort = Number(
      /private redis-server on redis:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1],
    );
    await eventually(() => expect(output).toContain("worker ready"), { timeout: 15_000 });
    await eventually(() => expect(output).toContain("gateway listening"), { timeout: 15_000 });

    const response = await postNotification(`http://127.0.0.1:${port}`, VALID_NOTIFICATION, {
      authorization: `Bearer ${key}`,
    });
    expect(response.status).toBe(202);

    await eventually(() => {
      expect(output).toContain("[dev outbox] EMAIL to user@example.com");
      expect(output).toContain("Subject: Trade executed: You traded 0.02 BTC");
      expect(output).toContain(
        "[dev outbox] SMS to +12025550143: Exchange: You traded 0.02 BTC for $1,000.00. Order order-id-123",
      );
    });
    const kept = readFileSync(join(dataDir, "outbox", "outbox.jsonl"), "utf8")
      .trim()
      .split("\n");
    expect(kept.map((line) => (JSON.parse(line) as { channel: string }).channel).sort()).toEqual([
      "email",
      "sms",
    ]);
    expect(readFileSync(join(dataDir, "api-key"), "utf8").trim()).toBe(key);

    dev.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(await portIsOpen(redisPort)).toBe(false);
  });
});
