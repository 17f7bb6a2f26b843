import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "./fixtures.js";
import { gatewayOver, TEST_API_KEY } from "./gateway-fixture.js";
import { listen } from "./support/listen.js";
import { startWorkerHarness, type WorkerHarness } from "./worker-fixture.js";

/** Every `<!-- example: name -->` code block of docs/api.md, as the reader sees it. */
function readmeExamples(): Map<string, string> {
  const readme = readFileSync("docs/api.md", "utf8");
  const examples = new Map<string, string>();
  for (const match of readme.matchAll(/<!-- example: (\w+) -->\s*```\w+\n([\s\S]*?)```/g)) {
    examples.set(match[1] ?? "", match[2] ?? "");
  }
  return examples;
}

function run(
  command: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; timeout: number },
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: options.env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeout);
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

function hasCommand(command: string): boolean {
  return spawnSync(command, ["version"], { stdio: "ignore" }).error === undefined;
}

/** How to run each example; Go is installed by .ci/run, and skipped elsewhere when missing. */
const RUNNERS: Record<string, { file: string; command: string[]; available: boolean }> = {
  curl: { file: "example.sh", command: ["bash"], available: true },
  python: { file: "example.py", command: ["python3"], available: true },
  go: {
    file: "main.go",
    command: ["go", "run"],
    available: hasCommand("go") || process.env.CI !== undefined,
  },
  node: { file: "example.mjs", command: [process.execPath], available: true },
};

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

describe("the README's examples", () => {
  let harness: WorkerHarness;
  let server: Awaited<ReturnType<typeof listen>> | undefined;
  let baseUrl: string;
  let dir: string;
  const firstIds: string[] = [];

  beforeAll(async () => {
    harness = await startWorkerHarness();
    const { app } = gatewayOver(harness);
    server = await listen(app);
    baseUrl = server.url;
    dir = mkdtempSync(join(tmpdir(), "notify-examples-"));
  });
  afterAll(async () => {
    await server?.close();
    await harness?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("has one example per language", () => {
    expect([...readmeExamples().keys()]).toEqual(["curl", "python", "go", "node"]);
  });

  it.each(Object.keys(RUNNERS))(
    "the %s example sends a single, a batch and a scheduled notification",
    async (name) => {
      const runner = RUNNERS[name];
      const code = readmeExamples().get(name);
      if (!runner?.available || code === undefined) return expect(runner?.available).toBe(false);
      const file = join(dir, name, runner.file);
      mkdirSync(join(dir, name), { recursive: true });
      writeFileSync(file, code);
      const [command = "", ...args] = runner.command;
      // Asynchronous: the gateway under test runs in this process and must keep answering.
      const result = await run(command, [...args, file], {
        env: {
          PATH: process.env.PATH ?? "",
          HOME: dir,
          // go run's build folder: in the run's own temporary folder, which the suite checks.
          TMPDIR: tmpdir(),
          GOCACHE: join(dir, "go-cache"),
          GOFLAGS: "-mod=mod",
          NOTIFY_URL: baseUrl,
          NOTIFY_API_KEY: TEST_API_KEY,
        },
        timeout: 120_000,
      });
      expect(result.stderr).toBe("");
      expect(result.status).toBe(0);
      const ids = result.stdout.match(UUID) ?? [];
      expect(ids).toHaveLength(4);
      const [single = "", batchA = "", batchB = "", scheduled = ""] = ids;
      firstIds.push(single);
      // The same Idempotency-Key and body in every language: one notification, one id.
      expect(new Set(firstIds).size).toBe(1);
      for (const id of [batchA, batchB]) expect(await harness.queue.getJob(id)).toBeDefined();
      const later = await harness.queue.getJob(scheduled);
      expect(await later?.getState()).toBe("delayed");
      expect(later?.data).toMatchObject({ type: "deposit.received", order: "dep-9" });
      await eventually(async () => {
        for (const id of [single, batchA, batchB]) {
          expect(await (await harness.queue.getJob(id))?.getState()).toBe("completed");
        }
      });
    },
    150_000,
  );
});
