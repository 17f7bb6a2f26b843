/**
 * `npm run bench`: builds the service and measures it with the defaults a deployment runs, on a
 * private Redis with fake providers; writes BENCHMARKS.md (one table: figure, target, measured,
 * met) and BENCHMARKS.json. `-- --quick` runs in a few minutes and writes BENCHMARKS.quick.*
 * instead; `-- --only <section>` (intake, trickle, drain, cold, soak) prints one section's rows.
 * The "How measured" section of BENCHMARKS.md is prose kept by hand; the bench copies it over.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { runSoak } from "../test/soak-run.js";
import { workerEnvSchema } from "../worker/env.js";
import { measureColdStart, measureTrickle } from "./delivery.js";
import { measureDrain } from "./drain.js";
import { measureIntake } from "./intake.js";
import { median, startRedis } from "./support.js";

const DRAIN_BACKLOG = 2000;
/** The worker's defaults: a SIGKILLed worker's jobs wait for their locks and a stalled check. */
const worker = workerEnvSchema.parse({ REDIS_URL: "redis://127.0.0.1:6379" });
const RECOVERY_S = (worker.WORKER_LOCK_DURATION_MS + worker.WORKER_STALLED_INTERVAL_MS) / 1000;

/** A figure's target: a floor (`min`) or a ceiling (`max`); `text` words it for the table. */
type Target = { figure: string; min?: number; max?: number; unit?: string; text?: string };
/** Every figure's target, in one place. */
const TARGETS = {
  intake: { figure: "Intake, 2xx/s: built gateway ÷ bare Hono + zod + queue.add route", min: 0.33 },
  gatewayRss: { figure: "Gateway RSS, idle / after the intake", max: 150, unit: " MiB" },
  pickupP50: { figure: "Pickup p50, POST → Resend call, at a trickle", max: 10, unit: " ms" },
  pickupP99: { figure: "Pickup p99, the same", max: 30, unit: " ms" },
  commands: { figure: "Redis commands per email + SMS notification (the trickle)", max: 12 },
  idle: { figure: "Idle Redis commands per hour, gateway + worker", max: 300 },
  drain: {
    figure: `Drain of ${DRAIN_BACKLOG} waiting emails, worker defaults, Resend at 2 requests/s: emails/s`,
    min: 150,
  },
  drainLoss: { figure: "The same drain: duplicates / lost", max: 0, text: "0 / 0" },
  killLoss: {
    figure: "The drain, its worker SIGKILLed half-way, a second started: duplicates / lost",
    max: 0,
    text: "0 / 0",
  },
  recovery: {
    figure: "SIGKILL → the last email the killed worker held goes out",
    max: RECOVERY_S + 10,
    unit: " s",
    text: `≤ lock + stalled interval + 10 s (${RECOVERY_S + 10} s)`,
  },
  bytes: { figure: "Redis bytes per email after the drain", max: 4096 },
  workerRss: { figure: "Worker RSS, idle / after the drain", max: 150, unit: " MiB" },
  coldStart: { figure: "Gateway cold start (spawn → first 202) ÷ the bare route's", max: 1.3 },
  workerColdStart: {
    figure: "Worker cold start (spawn → a waiting email reaches Resend)",
    max: 2000,
    unit: " ms",
  },
  soak: {
    figure: "Soak, providers failing 10 % of calls: not delivered exactly once",
    max: 0,
    text: "none",
  },
} satisfies Record<string, Target>;

const quick = process.argv.includes("--quick");
const onlyArg = process.argv.indexOf("--only");
const only = onlyArg > 0 ? process.argv[onlyArg + 1] : undefined;
if (only !== undefined && !["intake", "trickle", "drain", "cold", "soak"].includes(only)) {
  throw new Error(`--only takes intake, trickle, drain, cold or soak, not ${only}`);
}
const plan = quick
  ? { intakeSeconds: 3, intakeRounds: 1, trickle: 20, idleSeconds: 20, coldRounds: 2, soak: 300 }
  : {
      intakeSeconds: 8,
      intakeRounds: 5,
      trickle: 120,
      idleSeconds: 180,
      coldRounds: 5,
      soak: 2000,
    };
const log = (message: string) => process.stdout.write(`[bench] ${message}\n`);

const rows: Array<{ figure: string; target: string; measured: string; met: boolean }> = [];
/** Judges `value` against its target; `shown` is what the table prints, `value` by default. */
function judge(name: keyof typeof TARGETS, value: number, shown?: string): void {
  const t: Target = TARGETS[name];
  const unit = t.unit ?? "";
  const met = t.min !== undefined ? value >= t.min : value <= (t.max ?? Number.NaN);
  const target = t.text ?? (t.min !== undefined ? `≥ ${t.min}${unit}` : `≤ ${t.max}${unit}`);
  rows.push({ figure: t.figure, target, measured: shown ?? `${value}${unit}`, met });
}
const measured: Record<string, unknown> = {};
/** Runs a section unless `--only` names another; logs and keeps what it measured. */
async function section<T>(name: string, measure: () => Promise<T>): Promise<T | undefined> {
  if (only !== undefined && only !== name) return undefined;
  log(name);
  const result = await measure();
  log(JSON.stringify(result));
  measured[name] = result;
  return result;
}

const startedAt = new Date();
log(`${quick ? "quick" : "full"} run`);

const intake = await section("intake", async () => {
  const redis = await startRedis();
  const plain = { seconds: plan.intakeSeconds, rounds: plan.intakeRounds };
  return measureIntake(redis.url, plain).finally(() => redis.stop());
});
if (intake) {
  const { gatewayPerSecond: gateway, barePerSecond: bare, rawAddsPerSecond: raw } = intake;
  const rates = `${median(gateway)} / ${median(bare)} req/s; raw queue.add ${median(raw)}/s`;
  judge(
    "intake",
    intake.gatewayOfBare,
    `${intake.gatewayOfBare} (${rates}, gateway ÷ raw ${intake.gatewayOfRaw})`,
  );
  const rss = [intake.gatewayRssIdleMiB, intake.gatewayRssAfterMiB];
  judge("gatewayRss", Math.max(...rss), `${rss.join(" / ")} MiB`);
}

const trickle = await section("trickle", () =>
  measureTrickle({ count: plan.trickle, idleSeconds: plan.idleSeconds }),
);
if (trickle) {
  const how = `202 after ${trickle.answerP50Ms}; ${trickle.count} notifications, ${trickle.gapMs} ms apart`;
  judge("pickupP50", trickle.pickupP50Ms, `${trickle.pickupP50Ms} ms (${how})`);
  judge("pickupP99", trickle.pickupP99Ms);
  judge("commands", trickle.commandsPerNotification);
  const idle = trickle.idleCommandsPerHour;
  judge("idle", idle, `${idle} (${trickle.idleSeconds} s counted)`);
}

const drain = await section("drain", async () => {
  const recoveryMs = TARGETS.recovery.max * 1000;
  const options = { count: DRAIN_BACKLOG, floorPerSecond: TARGETS.drain.min, recoveryMs };
  return {
    steady: await measureDrain({ ...options, kill: false }),
    killed: await measureDrain({ ...options, kill: true }),
  };
});
if (drain) {
  const { steady, killed } = drain;
  const rate = steady.finished ? steady.emailsPerSecond : 0;
  const calls = `${steady.providerRequests} requests, ${steady.rateLimited429} answered 429`;
  judge("drain", rate, `${steady.emailsPerSecond} (${steady.seconds} s, ${calls})`);
  for (const [name, run] of [
    ["drainLoss", steady],
    ["killLoss", killed],
  ] as const) {
    const late = run.finished ? "" : `, not finished by ${run.seconds} s`;
    const loss = run.finished ? run.duplicates + run.lost : Number.POSITIVE_INFINITY;
    judge(name, loss, `${run.duplicates} / ${run.lost}${late}`);
  }
  const held = killed.kill;
  if (held) {
    const when = Number.isFinite(held.lastHeldSeconds) ? `${held.lastHeldSeconds} s` : "never";
    judge("recovery", held.lastHeldSeconds, `${when} (${held.heldUnsent} emails held unsent)`);
  }
  const bytes = steady.redisBytesPerEmail;
  if (bytes) {
    const kinds = `job ${bytes.job}, delivery record ${bytes.deliveryRecord}, batch ${bytes.batch}, the rest ${bytes.other}`;
    // Only a finished drain's keys are those of delivered emails.
    const late = steady.finished ? "" : "; the drain did not finish";
    judge("bytes", steady.finished ? bytes.total : Number.NaN, `${bytes.total} (${kinds}${late})`);
  }
  const rss = [steady.workerRssIdleMiB, steady.workerRssAfterMiB];
  judge("workerRss", Math.max(...rss), `${rss.join(" / ")} MiB`);
}

const cold = await section("cold", () => measureColdStart(plan.coldRounds));
if (cold) {
  const ms = `${median(cold.gatewayMs)} / ${median(cold.bareMs)} ms`;
  judge("coldStart", cold.gatewayOfBare, `${cold.gatewayOfBare} (${ms})`);
  judge("workerColdStart", median(cold.workerMs));
}

const soak = await section("soak", () => runSoak({ count: plan.soak }));
if (soak) {
  const found = soak.ok ? "none" : soak.problems.slice(0, 3).join("; ");
  judge("soak", soak.ok ? 0 : 1, `${found} (${soak.count} notifications, ${soak.seconds} s)`);
}

const git = (...args: string[]) => execFileSync("git", args).toString().trim();
const redisVersion = execFileSync("redis-server", ["--version"]).toString().split(" sha")[0];
const run = {
  date: startedAt.toISOString(),
  mode: quick ? "quick" : "full",
  branch: git("rev-parse", "--abbrev-ref", "HEAD"),
  commit: git("rev-parse", "--short", "HEAD"),
  machine: `${os.cpus()[0]?.model}, ${os.cpus().length} cores, Node ${process.version}, ${redisVersion}`,
  plan: { ...plan, drainBacklog: DRAIN_BACKLOG },
};
const cells = [["figure", "target", "measured", "met?"]].concat(
  rows.map((r) => [r.figure, r.target, r.measured, r.met ? "yes" : "**no**"]),
);
// Columns padded as the formatter (biome) lays out a Markdown table.
const widths = [0, 1, 2, 3].map((i) => Math.max(...cells.map((c) => c[i]?.length ?? 0)));
const line = (c: string[]) => `| ${c.map((x, i) => x.padEnd(widths[i] ?? 0)).join(" | ")} |`;
const [header = [], ...body] = cells;
const table = [header, widths.map((w) => "-".repeat(w)), ...body].map(line).join("\n");
log(`${rows.filter((r) => r.met).length}/${rows.length} targets met\n${table}`);
if (only === undefined) {
  // A quick run is a smoke check: it must not replace the committed report of a full run.
  const name = quick ? "BENCHMARKS.quick" : "BENCHMARKS";
  const previous = existsSync("BENCHMARKS.md") ? readFileSync("BENCHMARKS.md", "utf8") : "";
  const how = previous.indexOf("## How measured");
  const command = `npm run bench${quick ? " -- --quick" : ""}`;
  const heading = `A ${run.mode} run of \`${command}\` on ${run.date.slice(0, 10)}, branch \`${run.branch}\` at ${run.commit}; ${run.machine}. Raw figures: \`${name}.json\`.`;
  const report = ["# Benchmarks", heading, table, how >= 0 ? previous.slice(how).trim() : ""];
  writeFileSync(`${name}.md`, `${report.join("\n\n").trim()}\n`);
  writeFileSync(`${name}.json`, `${JSON.stringify({ ...run, rows, measured }, null, 2)}\n`);
  log(`wrote ${name}.md and ${name}.json`);
}
process.exit(0);
