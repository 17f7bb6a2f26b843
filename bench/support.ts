import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";

/** The NODE_OPTIONS the Dockerfile gives production processes, so the bench measures the same. */
export const PRODUCTION_NODE_OPTIONS =
  /^ENV NODE_OPTIONS=(.+)$/m.exec(readFileSync("Dockerfile", "utf8"))?.[1]?.trim() ?? "";

/** A process of the production build (dist/), started for a measurement. */
export interface BuiltProcess {
  child: ChildProcess;
  lines: string[];
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resident memory in MiB, from /proc. */
  rssMiB(): number;
  stop(): Promise<void>;
}

/** Starts `node <file>` with exactly `env` (plus PATH); `nodeArgs` such as ["--import", "tsx"]. */
export function startBuilt(
  file: string,
  env: Record<string, string>,
  nodeArgs: string[] = [],
): BuiltProcess {
  const child = spawn(process.execPath, [...nodeArgs, file], {
    env: {
      PATH: process.env.PATH ?? "",
      NODE_ENV: "production",
      LOG_LEVEL: "warn",
      ...(file.startsWith("dist/") ? { NODE_OPTIONS: PRODUCTION_NODE_OPTIONS } : {}),
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  for (const stream of [child.stdout, child.stderr]) {
    let partial = "";
    stream?.on("data", (chunk: Buffer) => {
      const parts = (partial + chunk.toString()).split("\n");
      partial = parts.pop() ?? "";
      lines.push(...parts);
      for (const wake of waiters.splice(0)) wake();
    });
  }
  return {
    child,
    lines,
    waitForLine(pattern, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(new Error(`${file} did not print ${pattern}:\n${lines.slice(-10).join("\n")}`)),
          timeoutMs,
        );
        const check = () => {
          const line = lines.find((candidate) => pattern.test(candidate));
          if (line) {
            clearTimeout(timer);
            resolve(line);
          } else if (child.exitCode !== null) {
            clearTimeout(timer);
            reject(new Error(`${file} exited:\n${lines.join("\n")}`));
          } else waiters.push(check);
        };
        check();
      });
    },
    rssMiB() {
      const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
      const kib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      return Math.round((kib / 1024) * 10) / 10;
    },
    stop() {
      return new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      });
    },
  };
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
