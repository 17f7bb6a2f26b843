/** One benchmark target and whether this run met it. */
export interface Target {
  what: string;
  value: number | string;
  target: string;
  pass: boolean;
}

/** BENCHMARKS.md from a run's raw numbers; the analysis section is kept in NOTES below the table. */
export function renderReport(run: {
  date: string;
  mode: string;
  plan: Record<string, number>;
  machine: Record<string, string | number>;
  targets: Target[];
  references: Array<{ what: string; value: number | string }>;
  [key: string]: unknown;
}): string {
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

${NOTES}
`;
}

/** What the numbers mean and how they were obtained; edit when the analysis changes. */
const NOTES = `## How each figure is measured

- **Intake**: autocannon, 32 connections, \`POST /notifications\` with an email + SMS body against
  the built gateway, alternating with 32 concurrent \`queue.add\` loops in the bench process
  (what a backend calling BullMQ directly gets), same Redis, flushed between rounds.
- **p99**: autocannon at half of the gateway's measured maximum rate.
- **Pickup**: one notification every 20 ms; time from the \`202\` arriving at the client to the fake
  Resend receiving the email, both clocks in the bench process; the worker runs with its default
  60 s drain delay, which does not delay pickup because adding a job wakes the blocked worker.
  Beside it, BullMQ alone: \`queue.add\` resolved → an in-process Worker's processor starts.
- **Workers**: the fake Resend answers after 50 ms; email-only jobs are added in bulk and drained by
  1, 2 and 4 built worker processes (concurrency 5, limits off); throughput from the first to the
  last provider call. The ideal for one worker is 5 ÷ 0.05 s = 100 jobs/s.
- **Commands**: Redis \`MONITOR\`, client-sent commands only (a Lua script counts once, as Upstash bills),
  over the intake and delivery of email + SMS notifications sent one at a time.
- **Idle**: the same count for an idle gateway and worker, extrapolated to an hour.
- **Memory**: \`VmRSS\` of the processes.
- **Cold start**: spawn of the built gateway → first \`202\`, against spawn of a bare Hono
  hello-world (\`bench/hello-server.mjs\`) → first \`200\`.
`;
