import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openEventPublisher } from "../delivery/events/publisher.js";
import { freePort } from "../scripts/redis-server.js";
import { createEventDeliveryWorker } from "../worker/event-delivery.js";
import { bounceEvent } from "./events-fixture.js";
import { newWebhookSecret } from "./fakes/events-backend.js";
import { createTestQueue, eventually, testLogger, workerRedis } from "./fixtures.js";

/** Every `<!-- example: name -->` code block of docs/events.md, as the reader sees it. */
function examples(): Map<string, string> {
  const text = readFileSync("docs/events.md", "utf8");
  const found = new Map<string, string>();
  for (const match of text.matchAll(/<!-- example: (\w+) -->\s*```\w+\n([\s\S]*?)```/g)) {
    found.set(match[1] ?? "", match[2] ?? "");
  }
  return found;
}

function hasCommand(command: string): boolean {
  return spawnSync(command, ["version"], { stdio: "ignore" }).error === undefined;
}

/**
 * How to run each example. The Node one imports `standardwebhooks`, so it runs from a directory
 * under this repository's node_modules, where Node's resolution finds the package. The Go one is
 * built first and its program run itself: the process the test stops is the server (`go run`
 * would leave the program it built running, and that build's folder behind).
 */
const RUNNERS: Record<
  string,
  {
    file: string;
    /** The command that makes the program `start` runs, from the source's path. */
    build?: (source: string) => string[];
    start: (source: string) => string[];
    inRepo?: boolean;
    available: boolean;
  }
> = {
  node: {
    file: "example.mjs",
    start: (source) => [process.execPath, source],
    inRepo: true,
    available: true,
  },
  python: { file: "example.py", start: (source) => ["python3", source], available: true },
  go: {
    file: "main.go",
    build: (source) => ["go", "build", "-o", `${source}.bin`, source],
    start: (source) => [`${source}.bin`],
    available: hasCommand("go") || process.env.CI !== undefined,
  },
};

/** Go's build cache, kept between runs beside the other caches of this repository's tools. */
const GO_CACHE = resolve("node_modules", ".cache", "events-example-go");

/** Runs `command` to its end; rejects with its output unless it exits 0. */
function runToEnd(command: string[], env: Record<string, string>): Promise<void> {
  const [name = "", ...args] = command;
  return new Promise((done, fail) => {
    const child = spawn(name, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("error", fail);
    child.once("exit", (code) =>
      code === 0 ? done() : fail(new Error(`${command.join(" ")} exited ${code}:\n${output}`)),
    );
  });
}

/** Ends `child` with SIGKILL, and resolves once it has exited. */
function kill(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    child.once("exit", () => done());
    child.kill("SIGKILL");
  });
}

/** A request signed with `secret` for `id`, at `at`, over `body`. */
function signed(secret: string, id: string, body: string, at = new Date()) {
  return {
    "content-type": "application/json",
    "webhook-id": id,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": new Webhook(secret).sign(id, at, body),
  };
}

describe("docs/events.md's verification examples", () => {
  const secret = newWebhookSecret();
  let fixture: Awaited<ReturnType<typeof createTestQueue>>;
  const children: ChildProcess[] = [];
  const dirs: string[] = [];

  beforeAll(async () => {
    fixture = await createTestQueue();
  });
  afterAll(async () => {
    await Promise.all(children.map(kill));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    await fixture?.cleanup();
  });

  it("has one example per language", () => {
    expect([...examples().keys()]).toEqual(["node", "python", "go"]);
  });

  it.each(Object.keys(RUNNERS))(
    "the %s example accepts our signed events and refuses forged, tampered and stale ones",
    async (name) => {
      const runner = RUNNERS[name];
      const code = examples().get(name);
      if (!runner?.available || code === undefined) return expect(runner?.available).toBe(false);
      const base = runner.inRepo ? join("node_modules", ".cache") : tmpdir();
      mkdirSync(base, { recursive: true });
      const dir = mkdtempSync(join(base, "events-example-"));
      dirs.push(dir);
      const source = join(dir, runner.file);
      writeFileSync(source, code);
      // HOME is the example's own folder: nothing of a tool's is written outside it or GO_CACHE.
      const env = { PATH: process.env.PATH ?? "", HOME: dir, TMPDIR: tmpdir() };
      if (runner.build) await runToEnd(runner.build(source), { ...env, GOCACHE: GO_CACHE });
      const port = await freePort();
      const [command = "", ...args] = runner.start(source);
      const child = spawn(command, args, {
        env: { ...env, PORT: String(port), EVENTS_WEBHOOK_SECRET: secret },
      });
      children.push(child);
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const url = `http://127.0.0.1:${port}/events`;
      const post = async (headers: Record<string, string>, body: string) => {
        const response = await fetch(url, { method: "POST", headers, body });
        await response.body?.cancel();
        return response.status;
      };
      // Up once it refuses an unsigned request.
      await eventually(
        async () => {
          if (child.exitCode !== null) throw new Error(`${name} exited: ${stderr}`);
          expect(await post({}, "{}")).toBe(401);
        },
        { timeout: 120_000, interval: 100 },
      );

      // A real delivery: the events worker signs and POSTs, the example verifies and answers 204.
      const queueName = `events-${randomUUID()}`;
      const { publisher, queue } = openEventPublisher({
        connection: fixture.redis,
        prefix: fixture.prefix,
        retentionDays: 1,
        queueName,
      });
      const connection = workerRedis();
      const worker = createEventDeliveryWorker({
        connection,
        prefix: fixture.prefix,
        url,
        secret,
        retryScheduleMs: [],
        timeoutMs: 5000,
        concurrency: 1,
        stalledIntervalMs: 30_000,
        drainDelaySeconds: 5,
        logger: testLogger(),
        queueName,
      });
      try {
        const event = bounceEvent(randomUUID());
        await publisher.publish(event);
        await eventually(async () => {
          expect(await (await queue.getJob(event.id))?.getState()).toBe("completed");
        });
        await eventually(() =>
          expect(stdout).toContain(`verified notification.bounced ${event.id}`),
        );
      } finally {
        await worker.close();
        await queue.obliterate({ force: true });
        await queue.close();
        await connection.quit();
      }

      const body = JSON.stringify(bounceEvent(randomUUID()));
      const id = "evt_example";
      expect(await post(signed(secret, id, body), body)).toBe(204);
      // Another secret's signature.
      expect(await post(signed(newWebhookSecret(), id, body), body)).toBe(401);
      // Our signature over another body.
      expect(await post(signed(secret, id, body), body.replace("bounced", "delivered"))).toBe(401);
      // Six minutes old, and six minutes ahead: outside the 5-minute tolerance.
      for (const offset of [-6, 6]) {
        const at = new Date(Date.now() + offset * 60_000);
        expect(await post(signed(secret, id, body, at), body)).toBe(401);
      }
      // During a secret rotation the header lists several signatures: any v1 match is enough.
      const rotating = signed(secret, id, body);
      const old = signed(newWebhookSecret(), id, body)["webhook-signature"];
      rotating["webhook-signature"] = `${old} ${rotating["webhook-signature"]}`;
      expect(await post(rotating, body)).toBe(204);
      expect(stderr).toBe("");
    },
    150_000,
  );
});
