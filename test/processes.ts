import { type ChildProcess, spawn } from "node:child_process";
import { eventually } from "./fixtures.js";

const ENTRIES = {
  gateway: "gateway/server.ts",
  worker: "worker/index.ts",
} as const;

/** A gateway or worker running as its own Node process, from source through tsx. */
export interface ServiceProcess {
  child: ChildProcess;
  /** Every stdout and stderr line so far. */
  lines: string[];
  /** Resolves with the first line matching `pattern`. */
  waitForLine(pattern: RegExp, timeout?: number): Promise<string>;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  /** Sends `signal` (SIGTERM by default) and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts a service with exactly `env` (plus PATH): nothing leaks in from the test runner's
 * environment, so each test states the configuration it relies on.
 */
export function startService(
  name: keyof typeof ENTRIES,
  env: Record<string, string>,
): ServiceProcess {
  return startNodeProcess(name, ["--import", "tsx", ENTRIES[name]], env);
}

/** Starts `node <args>` with exactly `env` (plus PATH); `startService` runs the sources this way. */
export function startNodeProcess(
  name: string,
  args: string[],
  env: Record<string, string>,
): ServiceProcess {
  const child = spawn(process.execPath, args, {
    // A worker's health port defaults to 0 (any free port) so several can run side by side.
    env: { PATH: process.env.PATH ?? "", NODE_ENV: "test", WORKER_HEALTH_PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    let partial = "";
    stream?.on("data", (chunk: Buffer) => {
      const parts = (partial + chunk.toString()).split("\n");
      partial = parts.pop() ?? "";
      lines.push(...parts);
    });
  }
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  return {
    child,
    lines,
    exited,
    waitForLine: (pattern, timeout = 15_000) =>
      eventually(
        () => {
          const line = lines.find((candidate) => pattern.test(candidate));
          if (!line) {
            if (child.exitCode !== null) throw new Error(`${name} exited:\n${lines.join("\n")}`);
            throw new Error(
              `${name} has not printed ${pattern} yet:\n${lines.slice(-5).join("\n")}`,
            );
          }
          return line;
        },
        { timeout, interval: 25 },
      ),
    stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
