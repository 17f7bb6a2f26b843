/**
 * What a test run leaves behind: processes it started that still run, and files in its temporary
 * folder. The suite's global setup watches for both (test/global-setup.ts) and fails the run when
 * any is left, so `npm test` ends with nothing of its own still running or on disk.
 */
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually } from "./wait.js";

/**
 * How long the run's processes get to end after its last test: the longest one of ours takes to
 * stop is a worker given SIGTERM with work in flight, its default grace period (30 s) and its close
 * (2 s). Only a run that left something behind waits this long.
 */
export const LEFTOVER_WAIT_MS = 35_000;

/** Set in the run's environment: every process that inherits it is the run's. */
export const RUN_MARKER_VARIABLE = "NOTIFY_TEST_RUN";

/**
 * Caches tools keep in the temporary folder by design, reused from run to run (npm's and Vite's
 * compile cache, tsx's): not something a test failed to remove. They go with the run's folder.
 */
const TOOL_CACHES = [/^node-compile-cache$/, /^tsx-\d+$/];

/** A process as /proc describes it. */
interface ProcessEntry {
  pid: number;
  /** Process group: children keep their parent's, even once orphaned. */
  group: number;
  /** `Z` for a zombie: already ended, only not yet reaped. */
  state: string;
}

/** Every process the user can see, from /proc; none where there is no /proc. */
function listProcesses(): ProcessEntry[] {
  if (!existsSync("/proc/self/stat")) return [];
  const entries: ProcessEntry[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // After the command name (which may hold spaces and parentheses): state, ppid, pgrp.
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(") ") + 2).split(" ");
      entries.push({ pid: Number(name), state: fields[0] ?? "", group: Number(fields[2]) });
    } catch {
      // It ended while being read.
    }
  }
  return entries;
}

function environmentHas(pid: number, entry: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(entry);
  } catch {
    return false; // ended, or another user's
  }
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
  } catch {
    return "(ended)";
  }
}

/** A watch over one test run, started before the run starts anything. */
export interface LeftoverWatch {
  /**
   * Environment for the run: its marker, and TMPDIR pointing at a folder of its own, so what
   * its tests create with os.tmpdir() is found there.
   */
  env: Record<string, string>;
  /** The run's processes still running: started after the watch, not yet ended. */
  running(): number[];
  /**
   * Waits up to `timeoutMs` for the run's processes to end (some are still stopping when the
   * last test returns), then ends the rest with SIGKILL and removes the temporary folder.
   * Answers one line per process left running and per entry left in the folder.
   */
  finish(timeoutMs?: number): Promise<string[]>;
}

/**
 * Starts watching. A process is the run's when it is in the run's process group (every child
 * spawned without `detached` is, orphans included) or carries the run's marker in its
 * environment (a detached one, such as a browser, that inherited it), and was not there before.
 * `byGroup: false` leaves the group out: a watch inside a test run (its own test) must not take
 * the other test files' processes for its own.
 */
export function watchLeftovers(options: { byGroup?: boolean } = {}): LeftoverWatch {
  const byGroup = options.byGroup ?? true;
  const runId = randomUUID();
  const marker = `${RUN_MARKER_VARIABLE}=${runId}`;
  const own = listProcesses().find((entry) => entry.pid === process.pid);
  const before = new Set(
    listProcesses()
      .filter((entry) => entry.group === own?.group)
      .map((entry) => entry.pid),
  );
  const folder = mkdtempSync(join(tmpdir(), "notify-test-run-"));
  const running = () =>
    listProcesses()
      .filter(
        (entry) =>
          entry.pid !== process.pid &&
          entry.state !== "Z" &&
          !before.has(entry.pid) &&
          ((byGroup && entry.group === own?.group) || environmentHas(entry.pid, marker)),
      )
      .map((entry) => entry.pid);
  return {
    env: { [RUN_MARKER_VARIABLE]: runId, TMPDIR: folder },
    running,
    async finish(timeoutMs = LEFTOVER_WAIT_MS) {
      const ended = await eventually(
        () => {
          if (running().length > 0) throw new Error("the run's processes are still running");
          return true;
        },
        { timeout: timeoutMs, interval: 50 },
      ).catch(() => false);
      const left = ended ? [] : running().map((pid) => ({ pid, command: commandLine(pid) }));
      for (const { pid } of left) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // It ended meanwhile.
        }
      }
      const entries = (existsSync(folder) ? readdirSync(folder) : []).filter(
        (entry) => !TOOL_CACHES.some((cache) => cache.test(entry)),
      );
      rmSync(folder, { recursive: true, force: true });
      return [
        ...left.map(({ pid, command }) => `process ${pid} still running: ${command}`),
        ...entries.map((entry) => `left in the run's temporary folder: ${entry}`),
      ];
    },
  };
}
