/**
 * `npm run bench` (`-- --quick` for a run under a minute): measures the production build against
 * raw BullMQ on a private Redis with fake providers, and writes BENCHMARKS.md and BENCHMARKS.json.
 * Every target is a ratio measured side by side in one run, or a count that does not depend on speed.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import os from "node:os";
import { startRedisServer } from "../scripts/redis-server.js";
import {
  measureColdStart,
  measureCommandsPerNotification,
  measureIdleCommands,
  measurePickup,
  measureWorkers,
} from "./delivery.js";
import { measureIntake } from "./intake.js";
import { renderReport, type Target } from "./report.js";

const quick = process.argv.includes("--quick");
const plan = quick
  ? {
      intakeSeconds: 2,
      rounds: 1,
      pickups: 40,
      jobsPerWorker: 100,
      workerRounds: 1,
      idleSeconds: 10,
      coldRounds: 2,
      notifications: 10,
    }
  : {
      intakeSeconds: 8,
      rounds: 5,
      pickups: 150,
      jobsPerWorker: 400,
      workerRounds: 3,
      idleSeconds: 180,
      coldRounds: 5,
      notifications: 30,
    };

function log(message: string) {
  process.stdout.write(`[bench] ${message}\n`);
}

const startedAt = new Date();
log(`${quick ? "quick" : "full"} run`);

const redis = await startRedisServer();
log("gateway intake vs raw BullMQ, and p99 at half rate");
const intake = await measureIntake({
  redisUrl: redis.url,
  durationS: plan.intakeSeconds,
  rounds: plan.rounds,
}).finally(() => redis.stop());
log(JSON.stringify(intake));

log("end-to-end pickup");
const pickup = await measurePickup({ count: plan.pickups });
log(JSON.stringify(pickup));

log("worker efficiency and scaling");
const workers = await measureWorkers({
  jobsPerWorker: plan.jobsPerWorker,
  rounds: plan.workerRounds,
});
log(JSON.stringify(workers));

log("Redis commands per notification");
const commands = await measureCommandsPerNotification(plan.notifications);
log(JSON.stringify(commands));

log(`idle Redis commands over ${plan.idleSeconds} s`);
const idle = await measureIdleCommands(plan.idleSeconds);
log(JSON.stringify(idle));

log("cold start");
const cold = await measureColdStart(plan.coldRounds);
log(JSON.stringify(cold));

const targets: Target[] = [
  {
    what: "Gateway intake ÷ raw BullMQ (32 connections vs 32 loops)",
    value: intake.ratio,
    target: "≥ 1.0",
    pass: intake.ratio >= 1.0,
  },
  {
    what: `Gateway p99 at half the max rate (${intake.halfRate} req/s)`,
    value: `${intake.p99AtHalfRateMs} ms`,
    target: "≤ 5 ms",
    pass: intake.p99AtHalfRateMs <= 5,
  },
  {
    what: "End-to-end pickup p50 (202 → provider call)",
    value: `${pickup.p50Ms} ms`,
    target: "≤ 10 ms",
    pass: pickup.p50Ms <= 10,
  },
  {
    what: "End-to-end pickup p99",
    value: `${pickup.p99Ms} ms`,
    target: "≤ 30 ms",
    pass: pickup.p99Ms <= 30,
  },
  {
    what: "Worker efficiency (jobs/s ÷ 100)",
    value: workers.efficiency,
    target: "≥ 0.9",
    pass: workers.efficiency >= 0.9,
  },
  {
    what: "2 workers ÷ 1 worker",
    value: workers.scaling2,
    target: "≥ 1.8",
    pass: workers.scaling2 >= 1.8,
  },
  {
    what: "4 workers ÷ 1 worker",
    value: workers.scaling4,
    target: "≥ 3.2",
    pass: workers.scaling4 >= 3.2,
  },
  {
    what: "Redis commands per email + SMS notification",
    value: commands.perNotification,
    target: "≤ 12",
    pass: commands.perNotification <= 12,
  },
  {
    what: "Idle Redis commands per hour (gateway + 1 worker)",
    value: idle.perHour,
    target: "≤ 300",
    pass: idle.perHour <= 300,
  },
  {
    what: "Gateway RSS idle / after intake",
    value: `${intake.gatewayRssIdleMiB} / ${intake.gatewayRssAfterIntakeMiB} MiB`,
    target: "≤ 150 MiB",
    pass: intake.gatewayRssAfterIntakeMiB <= 150 && intake.gatewayRssIdleMiB <= 150,
  },
  {
    what: "Worker RSS idle / after a run",
    value: `${workers.workerRssIdleMiB} / ${workers.workerRssAfterMiB} MiB`,
    target: "≤ 150 MiB",
    pass: workers.workerRssAfterMiB <= 150 && workers.workerRssIdleMiB <= 150,
  },
  {
    what: "Cold start ÷ bare Hono hello-world",
    value: cold.ratio,
    target: "≤ 2.0",
    pass: cold.ratio <= 2,
  },
];

/** Figures measured beside the targets, that show where a miss comes from. */
const references = [
  { what: "Bare Hono + zod + queue.add route ÷ raw BullMQ", value: intake.bareRouteOfRaw },
  {
    what: "Gateway ÷ bare route (the cost of auth, validation, logs, metrics)",
    value: intake.gatewayOfBareRoute,
  },
  {
    what: `Bare route p99 at the gateway's half rate (${intake.halfRate} req/s)`,
    value: `${intake.bareRouteP99AtHalfRateMs} ms`,
  },
  {
    what: "End-to-end pickup with BullMQ alone, p50 / p99",
    value: `${pickup.bullmqAloneP50Ms} / ${pickup.bullmqAloneP99Ms} ms`,
  },
  {
    what: "Cold start ÷ a bare Hono + zod + BullMQ route's cold start",
    value: cold.gatewayOfBareQueueRoute,
  },
];

const machine = {
  cpu: os.cpus()[0]?.model ?? "unknown",
  cores: os.cpus().length,
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  node: process.version,
  redis: execFileSync("redis-server", ["--version"]).toString().trim(),
  os: `${os.type()} ${os.release()}`,
};
const raw = {
  date: startedAt.toISOString(),
  mode: quick ? "quick" : "full",
  plan,
  machine,
  intake,
  pickup,
  workers,
  commands,
  idle,
  cold,
  targets,
  references,
};
// A quick run is a smoke check: it must not replace the committed report of the last full run.
const name = quick ? "BENCHMARKS.quick" : "BENCHMARKS";
writeFileSync(`${name}.json`, `${JSON.stringify(raw, null, 2)}\n`);
writeFileSync(`${name}.md`, renderReport(raw));
log(
  `wrote ${name}.md and ${name}.json (${targets.filter((t) => t.pass).length}/${targets.length} targets met)`,
);
process.exit(0);
