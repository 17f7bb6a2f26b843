/**
 * `npm run bench` (`-- --quick` for a run of a few minutes; `-- --only intake` for the HTTP
 * intake alone, written to BENCHMARKS.intake.md/.json): measures the production build against
 * raw BullMQ on a private Redis with fake providers, and writes BENCHMARKS.md and BENCHMARKS.json.
 * Every target is a ratio measured side by side in one run, or a count that does not depend on speed.
 * `-- --render` measures nothing: it writes BENCHMARKS.md again from BENCHMARKS.json (after a change
 * to the report's text).
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import {
  measureColdStart,
  measureCommandsPerNotification,
  measureIdleCommands,
  measurePickup,
  measureWorkers,
} from "./delivery.js";
import { measureDrain } from "./drain.js";
import { FEATURE_COSTS_RATE, measureFeatureCosts } from "./feature-costs.js";
import { measureIntake } from "./intake.js";
import {
  featureCostReferences,
  gatewayRssTarget,
  intakeReferences,
  intakeTargets,
  readPreviousIntake,
} from "./intake-rows.js";
import type { RedisMemory } from "./redis-memory.js";
import { type Target, writePartialReport, writeReport } from "./report.js";
import { median, startRedis } from "./support.js";

if (process.argv.includes("--render")) {
  writeReport("BENCHMARKS.md", JSON.parse(readFileSync("BENCHMARKS.json", "utf8")));
  process.exit(0);
}

const quick = process.argv.includes("--quick");
const onlyIndex = process.argv.indexOf("--only");
const only = onlyIndex >= 0 ? process.argv[onlyIndex + 1] : undefined;
if (only !== undefined && only !== "intake" && only !== "cold") {
  throw new Error(`--only takes "intake" or "cold" (the sections that run alone), not ${only}`);
}
const plan = quick
  ? {
      intakeSeconds: 2,
      rounds: 1,
      featureSeconds: 2,
      featureRounds: 1,
      pickups: 40,
      jobsPerWorker: 100,
      workerRounds: 1,
      idleSeconds: 10,
      coldRounds: 2,
      notifications: 10,
      drainNotifications: 2000,
      unbatchedSeconds: 10,
    }
  : {
      intakeSeconds: 8,
      rounds: 5,
      featureSeconds: 6,
      featureRounds: 5,
      pickups: 150,
      jobsPerWorker: 400,
      workerRounds: 3,
      idleSeconds: 180,
      coldRounds: 5,
      notifications: 30,
      drainNotifications: 10_000,
      unbatchedSeconds: 20,
    };

function log(message: string) {
  process.stdout.write(`[bench] ${message}\n`);
}

/** The cold start's target: the bundled gateway against the bare route, both spawn → first 202. */
function coldStartTarget(cold: Awaited<ReturnType<typeof measureColdStart>>): Target {
  return {
    what: "Cold start (bundled gateway, spawn → first 202) ÷ bare Hono + zod + BullMQ route",
    value: `${cold.gatewayOfBareQueueRoute} (${median(cold.gatewayMs)} / ${median(cold.bareQueueRouteMs)} ms)`,
    target: "≤ 1.3",
    pass: cold.gatewayOfBareQueueRoute <= 1.3,
  };
}

function coldStartReferences(cold: Awaited<ReturnType<typeof measureColdStart>>) {
  return [
    { what: "Cold start ÷ a bare Hono hello-world's (spawn → first 200)", value: cold.ratio },
    {
      what: "Cold start ÷ the bare route bundled the same way (esbuild, scripts/bundle.ts)",
      value: cold.gatewayOfBundledBareQueueRoute,
    },
    {
      what: "Cold start, ms per round: bundled gateway / bare route / bare route bundled / hello-world",
      value: [
        cold.gatewayMs,
        cold.bareQueueRouteMs,
        cold.bundledBareQueueRouteMs,
        cold.helloWorldMs,
      ]
        .map((rounds) => rounds.join(", "))
        .join(" / "),
    },
  ];
}

/** Redis bytes per email by what keeps them, as the References row reads them. */
function memoryRow(bytes: RedisMemory | undefined): string {
  if (!bytes) return "n/a";
  return `${bytes.job} / ${bytes.deliveryRecord} / ${bytes.batch} / ${bytes.other}`;
}

/** The machine a run measured, for the report. */
function machine() {
  return {
    cpu: os.cpus()[0]?.model ?? "unknown",
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    redis: execFileSync("redis-server", ["--version"]).toString().trim(),
    os: `${os.type()} ${os.release()}`,
  };
}

const startedAt = new Date();

/**
 * A partial run (`--only <section>`) writes BENCHMARKS.<section>.md/.json, so that the full
 * report stays the one of the last full run; then the bench ends.
 */
function writePartialRun(
  section: string,
  measured: Record<string, unknown>,
  targets: Target[],
  references: Array<{ what: string; value: number | string }>,
): never {
  const run = {
    date: startedAt.toISOString(),
    mode: `${quick ? "quick" : "full"}, ${section} only`,
    plan: Object.fromEntries(
      // The intake's rounds are `rounds`, its feature costs' `feature…`; every other setting is
      // named for its section.
      Object.entries(plan).filter(
        ([key]) =>
          key.startsWith(section) ||
          (section === "intake" && (key === "rounds" || key.startsWith("feature"))),
      ),
    ),
    machine: machine(),
    targets,
    references,
  };
  const name = quick ? `BENCHMARKS.quick.${section}` : `BENCHMARKS.${section}`;
  writeFileSync(`${name}.json`, `${JSON.stringify({ ...run, ...measured }, null, 2)}\n`);
  writePartialReport(`${name}.md`, run);
  log(
    `wrote ${name}.md and .json (${targets.filter((t) => t.pass).length}/${targets.length} targets met)`,
  );
  process.exit(0);
}
log(`${quick ? "quick" : "full"} run`);

if (only === "cold") {
  log("cold start");
  const cold = await measureColdStart(plan.coldRounds);
  log(JSON.stringify(cold));
  writePartialRun("cold", { cold }, [coldStartTarget(cold)], coldStartReferences(cold));
}

// The last full report's gateway figure, read before this run rewrites it.
const previousIntake = readPreviousIntake();
const redis = await startRedis();
log("gateway intake vs the bare route and raw BullMQ, and p99 at half rate");
const intake = await measureIntake({
  redisUrl: redis.url,
  durationS: plan.intakeSeconds,
  rounds: plan.rounds,
});
log(
  `intake load generator: ${intake.tool}${intake.tool === "wrk" ? "" : " (wrk is not installed)"}`,
);
log(JSON.stringify(intake));
log("the gateway's CPU a request, feature by feature, side by side at a fixed rate");
const featureCosts = await measureFeatureCosts({
  redisUrl: redis.url,
  tool: intake.tool,
  rate: FEATURE_COSTS_RATE,
  seconds: plan.featureSeconds,
  rounds: plan.featureRounds,
}).finally(() => redis.stop());
log(JSON.stringify(featureCosts));
if (only === "intake") {
  writePartialRun(
    "intake",
    { intake, featureCosts },
    [...intakeTargets(intake, previousIntake), gatewayRssTarget(intake)],
    [...intakeReferences(intake, previousIntake), ...featureCostReferences(featureCosts)],
  );
}

log("end-to-end pickup");
const pickup = await measurePickup({ count: plan.pickups });
log(JSON.stringify(pickup));

log("worker efficiency and scaling");
const workers = await measureWorkers({
  jobsPerWorker: plan.jobsPerWorker,
  rounds: plan.workerRounds,
});
log(JSON.stringify(workers));

log(`drain of ${plan.drainNotifications} waiting emails under Resend's 2 requests a second`);
const drain = await measureDrain({
  notifications: plan.drainNotifications,
  baselineSeconds: plan.unbatchedSeconds,
});
log(JSON.stringify(drain));

log("Redis commands per notification");
const commands = await measureCommandsPerNotification(plan.notifications);
log(JSON.stringify(commands));

log(`idle Redis commands over ${plan.idleSeconds} s`);
const idle = await measureIdleCommands(plan.idleSeconds);
log(JSON.stringify(idle));

log("cold start");
const cold = await measureColdStart(plan.coldRounds);
log(JSON.stringify(cold));

const drainRows = (name: string, run: typeof drain.steady): Target[] => [
  {
    what: `${name}: emails/s (seconds)`,
    value: `${run.emailsPerSecond} (${run.seconds} s)`,
    target: "≥ 150",
    pass: run.finished && run.emailsPerSecond >= 150,
  },
  {
    what: `${name}: duplicates / lost`,
    value: `${run.duplicates} / ${run.lost}`,
    target: "0 / 0",
    pass: run.finished && run.duplicates === 0 && run.lost === 0,
  },
];

const targets: Target[] = [
  ...intakeTargets(intake, previousIntake),
  ...drainRows(
    `Drain of ${plan.drainNotifications} waiting emails, 1 worker, Resend at 2 requests/s`,
    drain.steady,
  ),
  ...drainRows("The same drain, its worker SIGKILLed half-way and a second started", drain.killed),
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
  gatewayRssTarget(intake),
  {
    what: "Worker RSS idle / after a run",
    value: `${workers.workerRssIdleMiB} / ${workers.workerRssAfterMiB} MiB`,
    target: "≤ 150 MiB",
    pass: workers.workerRssAfterMiB <= 150 && workers.workerRssIdleMiB <= 150,
  },
  coldStartTarget(cold),
];

/** Figures measured beside the targets, that show where a miss comes from. */
const references = [
  ...intakeReferences(intake, previousIntake),
  ...featureCostReferences(featureCosts),
  {
    what: `One email per request (EMAIL_BATCH_SIZE=1), ${drain.unbatched.seconds} s: emails/s`,
    value: drain.unbatched.emailsPerSecond,
  },
  { what: "Batched drain ÷ one email per request", value: drain.batchedOfUnbatched },
  {
    what: "Drain (batched, kill run): Resend requests, median emails per request",
    value: `${drain.steady.providerRequests}, ${drain.steady.medianBatchSize} / ${drain.killed.providerRequests}, ${drain.killed.medianBatchSize}`,
  },
  {
    what: "Drain: 429s from the fake Resend (batched / kill run / one email per request)",
    value: [drain.steady, drain.killed, drain.unbatched]
      .map((run) => run.rateLimited429)
      .join(" / "),
  },
  {
    what: "Kill run: batches re-sent under their first key after the kill",
    value: drain.killed.replayedBatches,
  },
  {
    what: "One worker with no provider limit anywhere (the same drain): emails/s",
    value: `${drain.unlimited.emailsPerSecond} (${drain.unlimited.seconds} s)`,
  },
  {
    what: "Redis commands per email in the batched drain (delivery only)",
    value: drain.steady.redisCommandsPerEmail ?? "n/a",
  },
  {
    what: "Redis bytes per email after the batched drain: job / delivery record / batch composition and pointer / the rest",
    value: memoryRow(drain.steady.redisBytesPerEmail),
  },
  {
    what: "End-to-end pickup with batches off (EMAIL_BATCH_SIZE=1), p50 / p99",
    value: `${pickup.batchesOffP50Ms} / ${pickup.batchesOffP99Ms} ms`,
  },
  {
    what: "Worker efficiency with batches off (EMAIL_BATCH_SIZE=1: one call per job)",
    value: workers.batchesOffEfficiency,
  },
  {
    what: "Worker efficiency of a bare BullMQ worker that only sends with the resend SDK (bench/bare-worker.mjs), same fake",
    value: workers.bareWorkerEfficiency,
  },
  {
    what: "Worker efficiency ÷ the bare worker's: batches on / off",
    value: `${workers.ofBareWorker} / ${workers.batchesOffOfBareWorker}`,
  },
  {
    what: "End-to-end pickup with BullMQ alone, p50 / p99",
    value: `${pickup.bullmqAloneP50Ms} / ${pickup.bullmqAloneP99Ms} ms`,
  },
  ...coldStartReferences(cold),
];

const raw = {
  date: startedAt.toISOString(),
  mode: quick ? "quick" : "full",
  plan,
  machine: machine(),
  intake,
  featureCosts,
  pickup,
  workers,
  drain,
  commands,
  idle,
  cold,
  targets,
  references,
};
// A quick run is a smoke check: it must not replace the committed report of the last full run.
const name = quick ? "BENCHMARKS.quick" : "BENCHMARKS";
writeFileSync(`${name}.json`, `${JSON.stringify(raw, null, 2)}\n`);
writeReport(`${name}.md`, raw);
log(
  `wrote ${name}.md and ${name}.json (${targets.filter((t) => t.pass).length}/${targets.length} targets met)`,
);
process.exit(0);
