/** One benchmark target and whether this run met it. */
export interface Target {
  what: string;
  value: number | string;
  target: string;
  pass: boolean;
}

/** The figures the analysis below the tables quotes; the rest of a run is in BENCHMARKS.json. */
interface Figures {
  intake: {
    tool: string;
    wrkThreads?: number;
    connections: number;
    limitedGatewayPerMinute: number;
    gatewayOfBareRoute: number;
    limitedGatewayOfBareRoute: number;
    bareRouteOfRaw: number;
    p99AtHalfRateMs: number;
    bareRouteP99AtHalfRateMs: number;
  };
  pickup: { p50Ms: number; batchesOffP50Ms: number; batchesOffP99Ms: number };
  workers: { efficiency: number; batchesOffEfficiency: number };
  drain: {
    workerEnv: Record<string, string>;
    killRunEnv: Record<string, string>;
    steady: DrainRun;
    killed: DrainRun;
    unlimited: DrainRun;
  };
  commands: { perNotification: number; byCommand: Record<string, number> };
}

interface DrainRun {
  emailsPerSecond: number;
  seconds: number;
  providerRequests: number;
  medianBatchSize: number;
}

/** BENCHMARKS.md from a run's raw numbers, with the analysis (`notes`) below the tables. */
export function renderReport(
  run: {
    date: string;
    mode: string;
    plan: Record<string, number>;
    machine: Record<string, string | number>;
    targets: Target[];
    references: Array<{ what: string; value: number | string }>;
  } & Figures,
): string {
  const rows = run.targets.map(
    (t) => `| ${t.what} | ${t.value} | ${t.target} | ${t.pass ? "pass" : "**miss**"} |`,
  );
  return `# Benchmarks

Written by \`npm run bench\` (${run.mode} run) on ${run.date}. Raw numbers: \`BENCHMARKS.json\`.
Each figure is the median over the rounds in \`plan\`; ratios are measured side by side in the same run.

Machine: ${run.machine.cpu}, ${run.machine.cores} cores, ${run.machine.memoryGiB} GiB, ${run.machine.os},
Node ${run.machine.node}, ${run.machine.redis}.

| what | measured | target | result |
| --- | --- | --- | --- |
${rows.join("\n")}

References measured in the same run, to locate the misses:

| what | measured |
| --- | --- |
${run.references.map((r) => `| ${r.what} | ${r.value} |`).join("\n")}

Plan: \`${JSON.stringify(run.plan)}\`

${notes(run)}
`;
}

/** What the numbers mean and how they were obtained; edit when the analysis changes. */
function notes({ intake, pickup, workers, drain, commands }: Figures): string {
  const generator =
    intake.tool === "wrk"
      ? `\`wrk\` (a C load generator, Debian package \`wrk\`; ${intake.wrkThreads} thread, ${intake.connections} connections, \`bench/wrk-post.lua\`)`
      : `autocannon (${intake.connections} connections; wrk was not installed, the fallback)`;
  const env = (settings: Record<string, string>) =>
    Object.entries(settings)
      .map(([name, value]) => `\`${name}=${value}\``)
      .join(", ");
  const ceiling = Math.round((100 * 1000) / Math.ceil(1100 / 2));
  return `## How each figure is measured

- **Intake**: ${generator}, \`POST /notifications\` with an email + SMS body, against four targets
  in alternating rounds on one Redis, flushed between runs; each HTTP target is warmed up for 3 s
  first. (1) Raw \`queue.add\` from 32 concurrent loops in the bench process: what a backend calling
  BullMQ directly gets, not HTTP. (2) The bare Hono + zod + \`queue.add\` route
  (\`bench/bare-intake-server.mjs\`). (3) The built gateway with its default middlewares and the
  per-key limit off (\`API_RATE_LIMIT_PER_MINUTE=0\`). (4) The built gateway with the per-key limit
  on, at ${intake.limitedGatewayPerMinute.toLocaleString("en-US")} a minute so that it never
  answers 429, and a unique \`Idempotency-Key\` on every request. Only 2xx answers count: wrk's
  "Non-2xx or 3xx responses" are subtracted and listed under References. Every gateway the bench
  starts has \`METRICS_PORT=0\`; all traffic goes to 127.0.0.1.
- **p99**: wrk2, which paces, is not packaged; \`bench/wrk-post.lua\` paces wrk with its \`delay()\`
  hook instead: each request takes the next slot of a schedule at the target rate, and wrk times a
  request from its write, so the pause before it is not latency. This stays closed-loop (a request
  waits for one of the 32 connections, without wrk2's correction for coordinated omission); the
  References show the rate it reached. The gateway (limit off) and the bare route, each at half the
  gateway's median maximum rate. With autocannon, its \`overallRate\`.
- **Drain**: email-only notifications, each to its own address, added with \`addBulk\` while no
  worker runs; the fake Resend (\`test/fakes/resend.ts\`) answers 429 \`rate_limit_exceeded\` to a
  third request in any sliding second and serves the batch endpoint; then ONE built worker with
  ${env(drain.workerEnv)}. \`WORKER_CONCURRENCY\` and \`RATE_LIMIT_PER_SECOND\` are raised from their
  defaults (5, and the seed's 10 jobs a second, which stay the defaults) because a batch holds at most
  the jobs one worker runs at once, and the queue's global limiter alone would hold the drain at
  10 emails a second; \`EMAIL_RATE_LIMIT_PER_SECOND\` is what protects Resend. Seconds run from the
  worker's spawn to the last email the fake accepted; emails/s is the recipients emailed over that.
  Duplicates: emails beyond the first to one recipient (a repeat under an idempotency key already
  answered is not a new email, as at Resend). Lost: recipients without an email once no job is
  waiting, running or delayed. The kill run SIGKILLs the worker when half the recipients have their
  email and starts a second one at once, both with ${env(drain.killRunEnv)} so that the jobs the
  dead worker held are taken over in seconds. One email per request: \`EMAIL_BATCH_SIZE=1\`, same
  worker, emails accepted within a fixed time from spawn. The worker's own ceiling: the same drain with no
  limit at the fake or in the worker.
- **Pickup**: one notification every 20 ms; time from the \`202\` arriving at the client to the fake
  Resend receiving the email, both clocks in the bench process; the worker runs with its defaults,
  so a lone email waits \`EMAIL_BATCH_WINDOW_MS\` for company before it goes alone, and its
  60 s drain delay, which does not delay pickup because adding a job wakes the blocked worker.
  Beside it, the same with batches off (\`EMAIL_BATCH_SIZE=1\`), and BullMQ alone: \`queue.add\`
  resolved → an in-process Worker's processor starts.
- **Workers**: the fake Resend answers after 50 ms; email-only jobs are added in bulk and drained by
  1, 2 and 4 built worker processes (concurrency 5, limits off, batches on as by default); throughput
  from the first to the last provider call. The ideal for one worker, one call per job, is
  5 ÷ 0.05 s = 100 jobs/s; the reference repeats one worker with \`EMAIL_BATCH_SIZE=1\`.
- **Commands**: Redis \`MONITOR\` (read from a plain socket), client-sent commands only (a Lua
  script counts once, as Upstash bills), over the intake and delivery of email + SMS notifications
  sent one at a time; for the drain, over the whole first drain (delivery only, the jobs were added
  before).
- **Idle**: the same count for an idle gateway and worker, extrapolated to an hour.
- **Memory**: \`VmRSS\` of the processes.
- **Cold start**: spawn of the built gateway → first \`202\`, against spawn of a bare Hono
  hello-world (\`bench/hello-server.mjs\`) → first \`200\`.

## What limits the misses, and what the profiles showed

TODO
`;
}
