import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { eventually, waitForHttpOk } from "./wait.js";

const ENTRIES = {
  gateway: "gateway/server.ts",
  worker: "worker/index.ts",
} as const;

/** A Node process of ours (a gateway, a worker, `npm run dev`), started by the harness. */
export interface ServiceProcess {
  child: ChildProcess;
  /** Every stdout and stderr line so far. */
  lines: string[];
  /** Resolves with the first line matching `pattern`; rejects if the process exits first. */
  waitForLine(pattern: RegExp, timeout?: number): Promise<string>;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  /** Sends `signal` (SIGTERM by default) and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Resident memory in MiB, from /proc. */
  rssMiB(): number;
  /** CPU time used so far (user + system), in ms, from /proc. */
  cpuMs(): number;
}

/**
 * Starts a service from source (through tsx) with exactly `env` (plus PATH): nothing leaks in
 * from the test runner's environment, so each test states the configuration it relies on.
 */
export function startService(
  name: keyof typeof ENTRIES,
  env: Record<string, string>,
): ServiceProcess {
  return startNodeProcess(name, ["--import", "tsx", ENTRIES[name]], env);
}

/**
 * The V8 options of the production start command (package.json's `start:gateway`, which every
 * deploy file repeats), as NODE_OPTIONS, so that a measurement runs the way production does.
 */
export const PRODUCTION_NODE_OPTIONS =
  (JSON.parse(readFileSync("package.json", "utf8")) as { scripts: Record<string, string> }).scripts[
    "start:gateway"
  ]
    ?.split(" ")
    .filter((word) => word.startsWith("--"))
    .join(" ") ?? "";

/**
 * Starts `node <args>` with exactly `env` (plus PATH), the harness's one spawner: tests, the
 * soak and the benchmarks all start processes through it. A worker's health port defaults to 0
 * (any free port) so several can run side by side; so is the gateway's metrics port.
 */
export function startNodeProcess(
  name: string,
  args: string[],
  env: Record<string, string>,
): ServiceProcess {
  const child = spawn(process.execPath, args, {
    env: {
      PATH: process.env.PATH ?? "",
      NODE_ENV: "test",
      WORKER_HEALTH_PORT: "0",
      METRICS_PORT: "0",
      ...env,
    },
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
    // Under tsx a worker compiles its sources and its email layouts (MJML) at start: about 5 s on
    // a quiet 2-core machine, and several started at once share those two cores.
    waitForLine: (pattern, timeout = 45_000) =>
      eventually(
        () => {
          const line = lines.find((candidate) => pattern.test(candidate));
          if (line) return line;
          if (child.exitCode !== null) throw new Error(`${name} exited:\n${lines.join("\n")}`);
          throw new Error(`${name} has not printed ${pattern} yet:\n${lines.slice(-5).join("\n")}`);
        },
        { timeout, interval: 10 },
      ),
    stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    cpuMs() {
      // utime and stime, fields 14 and 15 of /proc/<pid>/stat, counted after the command name
      // (which may hold spaces and parentheses), in clock ticks: 100 a second on Linux.
      const stat = readFileSync(`/proc/${child.pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(") ") + 2).split(" ");
      return (Number(fields[11]) + Number(fields[12])) * 10;
    },
    rssMiB() {
      const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
      const kib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      return Math.round((kib / 1024) * 10) / 10;
    },
  };
}

/**
 * Waits until a gateway process listens and its Redis connection is ready (`/readyz` answers 200),
 * as a platform's readiness check does before it sends traffic: a request in between is answered
 * 503 (commands are not queued while Redis is unreachable), which a test must not mistake for a
 * failure of the code under test.
 */
export async function waitForGatewayReady(gateway: ServiceProcess, port: number): Promise<void> {
  await gateway.waitForLine(/gateway listening/);
  let exited = false;
  void gateway.exited.then(() => {
    exited = true;
  });
  await waitForHttpOk(`http://127.0.0.1:${port}/readyz`, {
    timeout: 45_000,
    stillRunning: () => {
      if (exited) throw new Error(`the gateway exited:\n${gateway.lines.join("\n")}`);
    },
  });
}
