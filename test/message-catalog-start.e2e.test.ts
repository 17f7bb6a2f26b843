import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { redisUrl } from "./fixtures.js";
import { startService } from "./support/processes.js";

describe("a worker with a broken message catalog", () => {
  const dir = mkdtempSync(join(tmpdir(), "messages-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("refuses to start, naming the file and the key", async () => {
    const file = join(dir, "de.json");
    writeFileSync(file, JSON.stringify({ "trade.executed.sms": "{brand}: {quantity {asset}" }));
    const worker = startService("worker", { REDIS_URL: redisUrl(), MESSAGES_DIR: dir });
    expect(await worker.exited).toBe(1);
    expect(worker.lines.join("\n")).toContain(
      `Invalid message catalog: ${file}: "trade.executed.sms": `,
    );
  });
});
