import { type ChildProcess, execFile, spawnSync } from "node:child_process";
import { bundleEntry } from "../scripts/bundle.js";
import { type RedisServer, startRedisServer } from "../scripts/redis-server.js";
import {
  PRODUCTION_NODE_OPTIONS,
  type ServiceProcess,
  startNodeProcess,
} from "../test/support/processes.js";

/** The production build: one bundled file per process (scripts/bundle.ts, `npm run build`). */
export const GATEWAY_BUNDLE = "dist/gateway.mjs";
/** The bare Hono + zod + queue.add route the gateway is measured against. */
export const BARE_ROUTE = "bench/bare-intake-server.mjs";
export const WORKER_BUNDLE = "dist/worker.mjs";
/** The bare route with the gateway's code for each feature inline (inline-intake-server.ts). */
export const INLINE_ROUTE = "dist/bench/inline-intake-server.mjs";

/** Builds the inline route: it imports the gateway's modules, so it runs bundled, as the gateway. */
export function bundleInlineRoute(): Promise<void> {
  return bundleEntry("bench/inline-intake-server.ts", "dist/bench", "inline-intake-server");
}

/** A process started for a measurement: the harness's one spawner, with production defaults. */
export type BuiltProcess = ServiceProcess;

/** Children still running: killed when the bench exits, also when a measurement threw. */
const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

function track(child: ChildProcess): void {
  running.add(child);
  child.once("exit", () => running.delete(child));
}

/** A private redis-server for one measurement, stopped with the bench if it is left running. */
export async function startRedis(): Promise<RedisServer> {
  const redis = await startRedisServer();
  track(redis.process);
  return redis;
}

/**
 * Starts `node <file>` in production (warn-level logs; the production start command's V8 options)
 * with `env` on top; `nodeArgs` such as ["--import", "tsx"] run sources.
 */
export function startBuilt(
  file: string,
  env: Record<string, string>,
  nodeArgs: string[] = [],
): BuiltProcess {
  const started = startNodeProcess(file, [...nodeArgs, file], {
    NODE_ENV: "production",
    LOG_LEVEL: "warn",
    // Every process alike, the bare routes too: ratios compare code, not V8 settings.
    NODE_OPTIONS: PRODUCTION_NODE_OPTIONS,
    ...env,
  });
  track(started.child);
  return started;
}

/** Whether a program answers on PATH (a load generator such as wrk). */
export function hasProgram(file: string, args: string[] = ["--version"]): boolean {
  return spawnSync(file, args, { stdio: "ignore" }).error === undefined;
}

/**
 * Runs a program that is not a Node process of ours (a load generator) to its end and resolves
 * with its stdout; past `timeoutMs` it is killed (SIGKILL), so none outlives the measurement.
 */
export function runProgram(file: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: 16 * 2 ** 20 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${file} failed: ${error.message}\n${stderr}`));
        else resolve(stdout);
      },
    );
    track(child);
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The median of some numbers. */
export function median(values: number[]): number {
  return percentile(values, 50);
}

/** The p-th percentile (nearest rank) of some numbers. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

/** Rounds to `digits` decimals for the report. */
export function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
