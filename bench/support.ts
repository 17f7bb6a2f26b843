import {
  PRODUCTION_NODE_OPTIONS,
  type ServiceProcess,
  startNodeProcess,
} from "../test/support/processes.js";

/** A process started for a measurement: the harness's one spawner, with production defaults. */
export type BuiltProcess = ServiceProcess;

/**
 * Starts `node <file>` in production (warn-level logs; the Dockerfile's NODE_OPTIONS for the
 * build in dist/) with `env` on top; `nodeArgs` such as ["--import", "tsx"] run sources.
 */
export function startBuilt(
  file: string,
  env: Record<string, string>,
  nodeArgs: string[] = [],
): BuiltProcess {
  return startNodeProcess(file, [...nodeArgs, file], {
    NODE_ENV: "production",
    LOG_LEVEL: "warn",
    ...(file.startsWith("dist/") ? { NODE_OPTIONS: PRODUCTION_NODE_OPTIONS } : {}),
    ...env,
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
