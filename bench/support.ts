import { type ChildProcess, execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { freePort, type RedisServer, startRedisServer } from "../scripts/redis-server.js";
import { type FakeResend, startFakeResend } from "../test/fakes/resend.js";
import { type FakeTwilio, startFakeTwilio } from "../test/fakes/twilio.js";
import {
  PRODUCTION_NODE_OPTIONS,
  type ServiceProcess,
  startNodeProcess,
} from "../test/support/processes.js";
import { eventually, waitForHttpOk } from "../test/support/wait.js";
import { providerEnv } from "../test/worker-fixture.js";

/** A random key each run: production refuses a guessable one. */
export const BENCH_API_KEY = randomBytes(32).toString("hex");
/** An email + SMS notification, as a backend sends one. */
export const NOTIFICATION = {
  to: "user@example.com",
  phone: "+12025550143",
  asset: "BTC",
  amount: 1000,
  quantity: 0.02,
  order: "order-id-123",
};
/** Resend's default team limit: the one limit the bench enforces, at the fake. */
export const RESEND_REQUESTS_PER_SECOND = 2;

/** Children still running: killed when the bench exits, also when a measurement threw. */
const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});
function track(child: ChildProcess): void {
  running.add(child);
  child.once("exit", () => running.delete(child));
}

/** A private redis-server, stopped with the bench if it is left running. */
export async function startRedis(): Promise<RedisServer> {
  const redis = await startRedisServer();
  track(redis.process);
  return redis;
}

/** The fake providers; the fake Resend enforces Resend's default request limit. */
export async function startFakes() {
  return {
    resend: await startFakeResend({ requestsPerSecond: RESEND_REQUESTS_PER_SECOND }),
    twilio: await startFakeTwilio(),
  };
}
export type Fakes = { resend: FakeResend; twilio: FakeTwilio };

/**
 * `node <file>` as a deployment runs it: NODE_ENV=production, the start command's V8 options,
 * every other setting at its default unless `env` names it.
 */
function startBuilt(file: string, env: Record<string, string>): ServiceProcess {
  const started = startNodeProcess(file, [file], {
    NODE_ENV: "production",
    NODE_OPTIONS: PRODUCTION_NODE_OPTIONS,
    ...env,
  });
  track(started.child);
  return started;
}

/** Waits until `url` answers 200; fails at once with the process's output if it exited. */
export function waitUntilReady(url: string, process: ServiceProcess): Promise<void> {
  return waitForHttpOk(url, {
    timeout: 30_000,
    stillRunning: () => {
      if (process.child.exitCode !== null) throw new Error(`exited:\n${process.lines.join("\n")}`);
    },
  });
}

/** The built gateway (or the bare route, `file`) with credentials only, once it is ready. */
export async function startGateway(
  redisUrl: string,
  env: Record<string, string> = {},
  file = "dist/gateway.mjs",
): Promise<{ process: ServiceProcess; url: string }> {
  const port = await freePort();
  const process = startBuilt(file, {
    REDIS_URL: redisUrl,
    HOST: "127.0.0.1",
    PORT: String(port),
    METRICS_HOST: "127.0.0.1",
    API_KEYS: BENCH_API_KEY,
    ...env,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUntilReady(`${url}/readyz`, process);
  return { process, url };
}

/** The built worker with credentials and the fakes' URLs only, once its health check answers. */
export async function startWorker(redisUrl: string, fakes: Fakes): Promise<ServiceProcess> {
  const port = await freePort();
  const worker = startBuilt("dist/worker.mjs", {
    REDIS_URL: redisUrl,
    WORKER_HEALTH_HOST: "127.0.0.1",
    WORKER_HEALTH_PORT: String(port),
    ...providerEnv(fakes.resend, fakes.twilio),
  });
  await waitUntilReady(`http://127.0.0.1:${port}/healthz`, worker);
  return worker;
}

/** POSTs a notification; resolves with its id once answered 202. */
export async function post(url: string, body: object = NOTIFICATION): Promise<string> {
  const response = await fetch(`${url}/notifications`, {
    method: "POST",
    headers: { authorization: `Bearer ${BENCH_API_KEY}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (response.status !== 202) throw new Error(`POST answered ${response.status}`);
  return ((await response.json()) as { id: string }).id;
}

/**
 * `POST /notifications` with wrk (1 thread, leaving the most of the machine to the server, 32
 * connections) for `seconds`: 2xx answers a second, and answers that failed (non-2xx, errors).
 */
export function runWrk(url: string, seconds: number): Promise<{ rate: number; failed: number }> {
  const args = ["-t1", "-c32", `-d${seconds}s`, "--timeout", "10s", "-s", "bench/wrk-post.lua"];
  args.push(`${url}/notifications`, "--", BENCH_API_KEY, JSON.stringify(NOTIFICATION));
  return new Promise((resolve, reject) => {
    const child = execFile("wrk", args, { timeout: (seconds + 30) * 1000 }, (error, stdout) => {
      const line = stdout.split("\n").find((candidate) => candidate.startsWith("{"));
      if (error || !line) return reject(new Error(`wrk failed: ${error?.message}\n${stdout}`));
      const s = JSON.parse(line) as Record<string, number>;
      const ok = (s.requests ?? 0) - (s.non2xx ?? 0);
      resolve({
        rate: ok / ((s.durationUs ?? 1) / 1e6),
        failed: (s.non2xx ?? 0) + (s.errors ?? 0),
      });
    });
    track(child);
  });
}

/** Resolves with `check`'s value once it is truthy, polling every millisecond. */
export function until<T>(check: () => T, timeout = 30_000): Promise<NonNullable<T>> {
  const truthy = () => check() || Promise.reject(new Error(`still waiting after ${timeout} ms`));
  return eventually(truthy as () => NonNullable<T>, { timeout, interval: 1 });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** The p-th percentile (nearest rank) of some numbers. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

export function median(values: number[]): number {
  return percentile(values, 50);
}

/** Rounds to `digits` decimals for the report. */
export function round(value: number, digits = 2): number {
  return Math.round(value * 10 ** digits) / 10 ** digits;
}
