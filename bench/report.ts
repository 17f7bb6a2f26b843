import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { FEATURE_DESCRIPTIONS, type FeatureCost, type FeatureCosts } from "./feature-costs.js";
import { median } from "./support.js";

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
    bareLimitedRouteOfBareRoute?: number;
    limitedGatewayOfBareLimitedRoute?: number;
    gatewayOfFeaturedRoute?: number;
    bareRouteOfFeaturedRoute?: number;
    inlineRouteOfBareRoute?: number;
    gatewayOfInlineRoute?: number;
    loggingGatewayOfGateway?: number;
    loggingGatewayOfGatewayByCpu?: number;
    loggingGatewayOfBareRoute?: number;
    gatewayOfBareRouteByCpu?: number;
    limitedGatewayOfBareRouteByCpu?: number;
    bareRouteOfRaw: number;
    p99AtHalfRateMs: number;
    bareRouteP99AtHalfRateMs: number;
    halfRate: number;
    gatewayRequestsPerSecond: number[];
    limitedGatewayRequestsPerSecond: number[];
    bareRouteRequestsPerSecond: number[];
  };
  pickup: {
    p50Ms: number;
    p99Ms: number;
    batchesOffP50Ms: number;
    batchesOffP99Ms: number;
    bullmqAloneP99Ms: number;
  };
  workers: {
    efficiency: number;
    batchesOffEfficiency: number;
    bareWorkerEfficiency?: number;
    ofBareWorker?: number;
  };
  drain: {
    workerEnv: Record<string, string>;
    killRunEnv: Record<string, string>;
    steady: DrainRun;
    killed: DrainRun;
    unlimited: DrainRun;
  };
  /** Absent from runs before the inline route existed. */
  featureCosts?: FeatureCosts;
  commands: { perNotification: number; byCommand: Record<string, number> };
  plan: Record<string, number>;
  cold: { ratio: number; gatewayOfBareQueueRoute: number };
}

interface DrainRun {
  redisCommandsPerEmail?: number;
  replayedBatches: number;
  emailsPerSecond: number;
  seconds: number;
  providerRequests: number;
  medianBatchSize: number;
}

type Run = Parameters<typeof renderReport>[0];

/**
 * Writes the report to `file`, formatted as the repository formats Markdown (Biome aligns the
 * tables), so that `biome check` stays clean after a run. A git-ignored quick report is skipped
 * by Biome and stays as rendered.
 */
export function writeReport(file: string, run: Run): void {
  writeFileSync(file, renderReport(run));
  spawnSync("node_modules/.bin/biome", ["format", "--write", file], { stdio: "ignore" });
}

/** What every report starts with: the run, the machine and the two tables. */
interface RunTables {
  date: string;
  mode: string;
  plan: Record<string, number>;
  machine: Record<string, string | number>;
  targets: Target[];
  references: Array<{ what: string; value: number | string }>;
}

function renderTables(run: RunTables, json: string): string {
  const rows = run.targets.map(
    (t) => `| ${t.what} | ${t.value} | ${t.target} | ${t.pass ? "pass" : "**miss**"} |`,
  );
  return `Written by \`npm run bench\` (${run.mode} run) on ${run.date}. Raw numbers: \`${json}\`.
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

Plan: \`${JSON.stringify(run.plan)}\``;
}

/**
 * A partial run's report (\`--only intake\`): the tables only. How each figure is measured is in
 * BENCHMARKS.md, the last full run's report.
 */
export function writePartialReport(file: string, run: RunTables): void {
  writeFileSync(
    file,
    `# Benchmarks: ${run.mode}

${renderTables(run, file.replace(/\.md$/, ".json"))}

A partial run; how each figure is measured, and the full set of targets, are in BENCHMARKS.md.
`,
  );
  spawnSync("node_modules/.bin/biome", ["format", "--write", file], { stdio: "ignore" });
}

/** BENCHMARKS.md from a run's raw numbers, with the analysis (`notes`) below the tables. */
export function renderReport(run: RunTables & Figures): string {
  return `# Benchmarks

${renderTables(run, "BENCHMARKS.json")}

${notes(run)}
`;
}

/** What the numbers mean and how they were obtained; edit when the analysis changes. */
function notes(figures: Figures): string {
  const { intake, featureCosts, drain } = figures;
  const generator =
    intake.tool === "wrk"
      ? `\`wrk\` (a C load generator, Debian package \`wrk\`; ${intake.wrkThreads} thread, ${intake.connections} connections, \`bench/wrk-post.lua\`)`
      : `autocannon (${intake.connections} connections; wrk was not installed, the fallback)`;
  const env = (settings: Record<string, string>) =>
    Object.entries(settings)
      .map(([name, value]) => `\`${name}=${value}\``)
      .join(", ");
  return `## How each figure is measured

- **Intake**: ${generator}, \`POST /notifications\` with an email + SMS body, against the targets
  below in rounds on one Redis, flushed between runs. A round runs the targets in a row ((8), (6) and
  (7) below, the gateway with tracing on, the gateway, the bare route, the limited gateway, (5) below, raw
  adds), the next round in the reverse order: the gateway always runs between tracing on and the
  bare route, and which of two neighbours goes first alternates, since this machine's speed drifts
  over tens of seconds ((6), at a fraction of the gateway's rate, needs no such care). Each HTTP target is warmed up for 3 s
  first; every process the bench starts (the bare routes too) runs with the production start
  command's V8 options. (1) Raw \`queue.add\` from 32 concurrent loops in the bench process: what a backend calling
  BullMQ directly gets, not HTTP. (2) The bare Hono + zod + \`queue.add\` route
  (\`bench/bare-intake-server.mjs\`). (3) The built gateway with its default middlewares and the
  per-key limit off (\`API_RATE_LIMIT_PER_MINUTE=0\`). (4) The built gateway with the per-key limit
  on, at ${intake.limitedGatewayPerMinute.toLocaleString("en-US")} a minute so that it never
  answers 429, and a unique \`Idempotency-Key\` on every request. (5) For reference, the bare route
  again with \`BARE_LIMIT_PER_MINUTE\` set: before and after its add it makes the Redis round
  trips of (4) and nothing else (rate-limiter-flexible's counter, a claim \`SET NX\`, the add, a
  confirming \`SET\` sent with the answer), also with a key on every request. (6) For reference,
  the bare route with the gateway's per-request features added the libraries' own way, as their
  documentation shows them (\`bench/featured-intake-server.ts\`): hono's \`requestId\`,
  \`secureHeaders\`, \`bearerAuth\` and \`bodyLimit\` middlewares, the two Prometheus series
  with prom-client as @hono/prometheus records them, a pino line per request, the gateway's
  contract schema and job. Unlike the gateway, it keeps ioredis' defaults (no command-timeout
  timer, a write per command, as the bare route), checks no media type, reads no
  \`Idempotency-Key\` header, keeps a client's \`X-Request-Id\`, and answers a bad body with a
  short error. Every process the bench starts logs at \`LOG_LEVEL=warn\`, so no target writes a
  line per request; (7), for reference, is (3) at the production default, \`LOG_LEVEL=info\`: a
  JSON line per request on stdout, which the bench reads as a platform's log collector would.
  (8), for reference, the bare route with the gateway's own code for each per-request feature,
  called in order from its one handler, without the gateway's middleware chain, router or error
  handler (\`bench/inline-intake-server.ts\`): the request id and the security headers
  (\`GatewayResponse\`), the API key (\`keyMatcher\`), the body size, media type and
  \`Idempotency-Key\` checks, the contract's schema, the gateway's enqueuer and job, the request's
  metrics and log call, the gateway's Redis connection; it answers a bad request with a short 4xx.
  Only 2xx answers count: wrk's
  "Non-2xx or 3xx responses" are subtracted and listed under References. A ratio is the median of
  the rounds' ratios; the References' rates are each target's median, so their quotient can differ
  when rounds vary (every round is in \`BENCHMARKS.json\`). Beside each rate, the server's CPU time
  over the run (user + system, \`/proc\`) per 2xx answer: time the machine lent to other work
  (the load generator, Redis, the hypervisor) does not count in it, so it moves less than a rate
  from round to round; the bare route's ÷ the gateway's is the ratio its CPU alone predicts for a
  server that uses one core. Every gateway the bench starts has
  \`METRICS_PORT=0\`; all traffic goes to 127.0.0.1.
- **Feature costs**: after the rounds, on the same Redis, pairs of servers side by side at
  ${featureCosts ? featureCosts.rate : "a fixed rate of"} req/s each (\`bench/side-by-side.ts\`, the tool behind \`npm run bench:compare\`;
  ${featureCosts ? `${featureCosts.rounds} rounds of ${featureCosts.seconds} s` : "in rounds"}): each server's CPU a 2xx answer, and in each round the
  difference between the two, of which the median is kept. (8) with every feature against (8)
  without one (\`INLINE_WITHOUT\`, which puts the bare route's way in its place; the schema is
  measured with the bare job on both sides, since the gateway's job needs the contract's fields):
  that feature's cost; (8) without any against the bare route: its own frame; (8) without any
  against (8) with all: the features at once; the gateway against (8) with all: its structure;
  (8) against itself: the noise of one difference.
- **Tracing**: in the same rounds, next to the gateway above (tracing off: no \`OTEL_*\` variable,
  so no SDK is loaded), the same gateway with tracing on (\`OTEL_EXPORTER_OTLP_ENDPOINT\` at a
  stand-in collector in the bench process, \`test/support/otlp-collector.ts\`, which answers 200 and
  discards; OTLP/protobuf, every request sampled); the two alternate which runs first. The rule for
  "tracing off costs nothing measurable": this run's gateway ÷ bare route may be below the last full
  report's (read from \`BENCHMARKS.json\` before it is rewritten) by at most the range (max − min) of
  this run's per-round ratios, its own noise. Tracing off ÷ on is listed under References.
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
  worker, emails accepted within a fixed time from spawn. The worker's own ceiling: the same drain
  with no limit at the fake or in the worker. Redis bytes per email: once the first drain is over,
  \`MEMORY USAGE\` (every element counted) of every key, by what keeps it (the job, a day; the
  delivery record, 30 days; a batch's composition and pointers, a day; the rest), over the emails.
- **Pickup**: one notification every 20 ms; time from the \`202\` arriving at the client to the fake
  Resend receiving the email, both clocks in the bench process; the worker runs with its defaults,
  with batches on (a lone email leaves once the worker's next fetch finds the queue empty, or
  after \`EMAIL_BATCH_WINDOW_MS\`), and its 60 s drain delay, which does not delay pickup because adding a job wakes the blocked worker.
  Beside it, the same with batches off (\`EMAIL_BATCH_SIZE=1\`), and BullMQ alone: \`queue.add\`
  resolved → an in-process Worker's processor starts.
- **Workers**: the fake Resend answers after 50 ms; email-only jobs are added in bulk and drained by
  1, 2 and 4 built worker processes (concurrency 5, limits off, batches on as by default); throughput:
  the emails that reach the fake after its first call, over the time from the first call to the last
  (the first call's emails took none of it). The ideal for one worker is 5 ÷ 0.05 s = 100 jobs/s,
  with one call per job or the 5 jobs in one call alike: no sixth job can start before one of the
  five is answered. The References repeat one worker with \`EMAIL_BATCH_SIZE=1\`, and run a bare
  BullMQ worker in its place (\`bench/bare-worker.mjs\`: concurrency 5, a processor that only
  calls \`resend.emails.send\`, no rendering, records, limits or batches), the same way.
- **Commands**: Redis \`MONITOR\` (read from a plain socket), client-sent commands only (a Lua
  script counts once, as Upstash bills), over the intake and delivery of email + SMS notifications
  sent one at a time; for the drain, over the whole first drain (delivery only, the jobs were added
  before).
- **Idle**: the same count for an idle gateway and worker, extrapolated to an hour.
- **Memory**: \`VmRSS\` of the processes.
- **Cold start**: spawn of the bundled gateway (\`dist/gateway.mjs\`, \`scripts/bundle.ts\`) → first
  \`202\`, against spawn of the bare Hono + zod + BullMQ route (\`bench/bare-intake-server.mjs\`,
  not bundled; the References add it bundled the same way) → first \`202\`, and of a bare Hono hello-world (\`bench/hello-server.mjs\`) → first
  \`200\`, in alternating rounds on one Redis.

## What limits each figure (misses included), and what the profiles showed

${misses(figures)}
`;
}

/**
 * How much of the limited gateway's distance from the bare route its Redis round trips explain:
 * the bare route making them (and nothing else) against the limited gateway.
 */
function roundTripsShare(intake: Figures["intake"]): string {
  const withTrips = intake.bareLimitedRouteOfBareRoute;
  if (withTrips === undefined) return "part";
  const miss = 1 - intake.limitedGatewayOfBareRoute;
  const share = miss > 0 ? Math.min(1, (1 - withTrips) / miss) : 0;
  return `about ${Math.round(share * 100)} %`;
}

/** The limit-off miss feature by feature (bench/feature-costs.ts); older runs did not measure it. */
function featureCostsProse(costs: FeatureCosts | undefined, intake: Figures["intake"]): string {
  if (!costs) return "This run did not measure the features one by one.";
  const percent = (share: number) => `${Math.round(share * 100)} %`;
  const range = (cost: FeatureCost) => `${cost.rangeUs.join(" to ")} µs`;
  const list = Object.entries(costs.features)
    .sort(([, a], [, b]) => b.us - a.us)
    .map(([name, cost]) => `${FEATURE_DESCRIPTIONS[name] ?? name} ${cost.us} (${range(cost)})`)
    .join(", ");
  const all = costs.allFeatures;
  const structure = `${costs.structure.us} µs (${percent(costs.structure.shareOfBareRoute)}; rounds ${range(costs.structure)})`;
  const verdict =
    all.shareOfBareRoute > 1 / 0.9 - 1
      ? `more than the 11 % by themselves. At full load, in the rounds, that route reaches
  ${intake.inlineRouteOfBareRoute ?? "n/a"} of the bare route's rate. The gateway's own structure (its middleware chain,
  router and error handler) adds ${structure} on top; in the rounds the gateway reaches
  ${intake.gatewayOfInlineRoute ?? "n/a"} of the inline route: at full load more requests are in flight, each holding the
  chain's promises and context across its awaits, so the structure can cost more there than at
  a fixed rate, and the rounds' drift blurs it (CPU a request in References). That part is the
  gateway's own and could still shrink; the target stays out of reach without it. So 0.9 is out
  of reach while every feature stays: the features the other issues require (the contract's
  checks, the request's metrics, the security headers and the request id, the API keys) cost
  more than the target allows, at the gateway's own implementation of each, which costs less
  than the libraries' (below).`
      : `within the 11 %, so the rest of the miss is the gateway's structure (its middleware
  chain, router and error handler), ${structure}; in the rounds the gateway reaches
  ${intake.gatewayOfInlineRoute ?? "n/a"} of the inline route.`;
  return `Where the gateway's extra CPU goes, measured in this run (References,
  \`bench/feature-costs.ts\`): the bare route with the gateway's own code for each feature, called
  in order from its one handler ((8) under How each figure is measured), side by side at
  ${costs.rate} req/s with the same route without the features, where a request costs the bare route
  ${costs.bareRouteUs} µs of CPU (more than at full load, when more requests share each turn of the event
  loop). Every feature at once adds ${all.us} µs a request, ${percent(all.shareOfBareRoute)} of the bare route's (rounds
  ${range(all)}): ${verdict} One feature at a time, in µs a request with the rounds' range: ${list};
  added up, ${all.summedUs} µs. These single differences are small against this machine's noise (two
  copies of one route read ${costs.noise.us} µs apart, rounds ${range(costs.noise)}), so only the larger
  ones stand out; the features also share caches, collections and loop turns, so they need not add
  up to the whole.`;
}

/** Where each miss comes from, with the figures of this run. */
function misses(figures: Figures): string {
  const { intake, featureCosts, pickup, workers, drain, commands, plan, cold } = figures;
  const rate = (values: number[]) => Math.round(median(values));
  const limited = rate(intake.limitedGatewayRequestsPerSecond);
  const bare = rate(intake.bareRouteRequestsPerSecond);
  const per = (name: string) =>
    Math.round(((commands.byCommand[name] ?? 0) / (plan.notifications ?? 1)) * 10) / 10;
  const ceiling = Math.round((100 * 1000) / Math.ceil((1000 * 1.1) / 2));
  return `- **Drain.** Resend's 2 requests a second are the limit, by design: the worker spaces its calls
  10 % wider than the limit (\`worker/provider-gate.ts\`), so 100 emails a call give at most
  ${ceiling} emails/s; this run's drain reached ${drain.steady.emailsPerSecond} (median
  ${drain.steady.medianBatchSize} emails a request, ${drain.steady.providerRequests} requests, no 429).
  With no limit anywhere, the same worker sent ${drain.unlimited.emailsPerSecond} emails/s
  (References), so the worker is not what holds a drain back. The kill run loses the seconds until
  the dead worker's locks lapse and a stalled-job check hands its jobs over (a few seconds with the
  settings above; with the defaults, \`WORKER_LOCK_DURATION_MS=30000\` and
  \`WORKER_STALLED_INTERVAL_MS=60000\`, up to about a minute and a half), plus
  ${drain.killed.replayedBatches} batch requests re-sent under their recorded keys, which Resend
  answers from its idempotency record.
- **Gateway 2xx intake ÷ bare route** (${intake.gatewayOfBareRoute} with the per-key limit off,
  ${intake.limitedGatewayOfBareRoute} with it on and a key on each request). The bare route itself
  reaches only ${intake.bareRouteOfRaw} of raw \`queue.add\` (References): on this 2-core machine Node's
  HTTP server, the load generator and Redis share the cores, a ceiling outside the project's code,
  which the target takes as its base. A server that uses one core reaches 0.9 of the bare route's
  rate only with at most 1 ÷ 0.9 − 1 = 11 % more CPU a request. ${featureCostsProse(featureCosts, intake)}
  Removed from the gateway's hot path over the reports before, each measured: undici \`Headers\`
  objects and full \`Response\`s (headers go out in Node's one \`writeHead\`, \`GatewayResponse\`),
  @hono/zod-openapi's generated validators for this route, the SHA-256 of a known key,
  prom-client's label hashing, a log line's deep copy for redaction, an ICU formatter per request
  naming a time zone, the retention options in every job, hono's router walking its tree (a fixed
  path's match is kept, \`gateway/static-path-router.ts\`), one middleware layer (the request id,
  the headers and the telemetry are one, \`gateway/middleware/every-request.ts\`), and ioredis'
  auto-pipelining, which copied every BullMQ script into a Pipeline per batch (the connection
  now writes a loop turn's commands at once, \`lib/redis.ts\`). A young generation four times as
  large (\`--max-semi-space-size=32\`) and turning ioredis' command-timeout timer off (a hung
  Redis becomes a 503 within a second) changed nothing measurable. Added to the bare route the
  libraries' own way instead ((6) under How each figure is measured), the same features bring it to
  ${intake.bareRouteOfFeaturedRoute === undefined ? "n/a" : (1 / intake.bareRouteOfFeaturedRoute).toFixed(2)} of the bare route in this run; the gateway does the same work at
  ${intake.gatewayOfFeaturedRoute ?? "n/a"} times that route's rate. A profile of that route under the same wrk load (taken
  separately, 12 s) puts about a third of its CPU in what the gateway's code avoids: hono's
  \`bearerAuth\` hashes the presented and the expected key with Web Crypto on every request (12 %
  of the samples), and undici's WHATWG \`Request\`, \`Headers\` and \`Response\` (12 %) with web
  streams (5 %), which @hono/node-server builds once \`bodyLimit\` reads \`c.req.raw\` and headers
  go through \`c.header()\`.
  The targets run at \`LOG_LEVEL=warn\`; at the production default, \`info\`, the gateway also
  writes a JSON line per request ((7) in References: ${intake.loggingGatewayOfGateway ?? "n/a"} of its rate at warn,
  ${intake.loggingGatewayOfBareRoute ?? "n/a"} of the bare route's; plan capacity on that figure). Measured
  side by side at a fixed rate (taken separately), that line took about 19 % more CPU a request; two changes cut it
  to about 10 %: stdout is buffered (\`lib/logger.ts\`: one write for up to 4 KB of lines, at
  most 100 ms later, instead of a write a line), and the line, whose values are all the
  gateway's own, skips the redaction and contact-masking pass every other line takes
  (\`ownValuesLogger\`).
  With the per-key limit on and idempotency keys in use (${limited} req/s), every request adds two
  Redis round trips in series: rate-limiter-flexible's counter and the idempotency claim, each a
  command, a reply and a command-timeout timer more. The claim's confirmation follows the add and
  goes out with the answer, not before it (\`gateway/enqueue.ts\`: the connection keeps the order,
  so a repeat through the same gateway finds it): a round trip less for every keyed request than
  in the report of 2026-11-27 that first measured (5). Until that report the limit's three \`RateLimit-*\` headers also went through hono's \`c.header()\`,
  which turned every limited 202 into a WHATWG \`Headers\` and a full \`Response\` with a
  stream body; they now go onto Node's response like the security headers
  (\`setResponseHeader\`), and the request's fingerprint is hashed one-shot: measured apart
  under wrk, about 360 to 300 µs of gateway CPU a request, against the bare route's 180 to 200.
  The bare route making the same round trips in the same order, and nothing else, reaches
  ${intake.bareLimitedRouteOfBareRoute ?? "n/a"} of the bare route in this run, and the limited
  gateway ${intake.limitedGatewayOfBareLimitedRoute ?? "n/a"} of that: ${roundTripsShare(intake)} of this miss is the
  price of the per-key limit and of idempotency, two round trips in series and a confirmation that the target's
  base does not make; the rest, as with the limit off, is the gateway's own work. By CPU per
  request (References), the bare route's ÷ the gateway's is ${intake.gatewayOfBareRouteByCpu ?? "n/a"}
  with the limit off and ${intake.limitedGatewayOfBareRouteByCpu ?? "n/a"} with it on.
- **p99 at half rate.** At ${intake.halfRate} req/s the gateway runs at half of its maximum, the bare
  route at about ${Math.round((100 * intake.halfRate) / bare)} % of its own: ${intake.p99AtHalfRateMs} ms against the bare
  route's ${intake.bareRouteP99AtHalfRateMs} ms at the same rate. ${
    intake.p99AtHalfRateMs > intake.bareRouteP99AtHalfRateMs
      ? "The bare route's is this machine's floor; waiting in the event loop grows with the share of the CPU in use, so the gateway's per-request work shows again in its tail."
      : "At this rate the two tails are within this machine's noise: which one is lower changes from run to run."
  }
- **Pickup.** p50 ${pickup.p50Ms} ms, with batches off ${pickup.batchesOffP50Ms} ms (References). A
  lone email no longer waits out \`EMAIL_BATCH_WINDOW_MS\` for company (\`worker/channel-batcher.ts\`):
  it leaves as soon as every job the worker runs waits in its batch and the worker's last fetch
  found the queue empty (BullMQ's \`drained\`; BullMQ fetches before it starts the jobs it fetched,
  so at the start of a burst the next fetch finds a job and the batch still collects). Until this
  report it waited the window (5 ms), which put the p50 at or just past the 10 ms line. The p99
  (${pickup.p99Ms} ms; ${pickup.batchesOffP99Ms} ms with batches off, against BullMQ alone's
  ${pickup.bullmqAloneP99Ms} ms) is the worker's own per-job work: a profile of the worker at one
  notification every 30 ms (taken separately) found its heap at 64 to 76 MB of the 96 MB the
  production start command allows, 10 major garbage collections in 9 s with pauses up to 38 ms,
  and 5 of the 8 slowest pickups containing one; the message catalogs and formatters of ten
  locales hold about 24 MB of it.
- **Worker efficiency.** With batches on, the 5 jobs a worker holds go in one 50 ms call as soon as
  the fifth joins (no sixth can start before one of the five is answered, so 100 jobs/s stays the
  ideal), ${workers.efficiency}; with batches off, one call per job, ${workers.batchesOffEfficiency}.
  The stack itself ${(workers.bareWorkerEfficiency ?? 0) < 0.9 ? "does not reach" : "reaches"} 0.9 on this machine: a bare BullMQ worker whose processor only
  calls the resend SDK, against the same fake, measured ${workers.bareWorkerEfficiency ?? "n/a"}
  (References): the SDK's HTTP call around the fake's 50 ms and BullMQ's completion and next fetch
  between two calls are outside the project's code. This worker reaches
  ${workers.ofBareWorker ?? "n/a"} of that ceiling with batches on; the rest is its own work, and
  where it falls: measured apart (\`/proc\`, 1,000 jobs), the bare worker uses as much CPU an email
  as this worker with batches on, about 2.5 ms (one HTTP call per email against one per five), but
  each of its five jobs waits on its own call, so one job's work overlaps the others' waits, where a
  batch's five are answered together and do all of theirs between two calls.
  A per-step trace (taken separately) puts one cycle at about 61 ms: 51 ms from the request's
  arrival at the fake to its answer, about 3 ms of HTTP and the SDK on either side, and about 7 ms
  of turnaround, which one thread does for the five jobs in a row: their outcomes 0.8 ms, their
  delivery records 1.3, BullMQ's moveToFinished with the next fetch 1.6 (about 205 µs of Redis time
  each; BullMQ's script alone takes 130 to 170 µs on this machine), five parses and renders 1.5,
  five try openings 1, the batch's composition 1. The worker uses about 2.4 ms of CPU per email
  (\`/proc\`); in lockstep all of it falls between two calls, and 0.9 needs a cycle of 55.5 ms,
  under 1 ms of CPU per email. Writing the worker connection's commands once per loop turn, as the
  gateway does, was measured and changed nothing (0.75 to 0.81 either way).
- **Redis commands per email + SMS notification** (${commands.perNotification}; an earlier
  report measured 19.8). Per notification now: EVAL ${per("eval")}, EVALSHA ${per("evalsha")},
  BZPOPMIN ${per("bzpopmin")}. The gateway's part is its per-key limit and the add; BullMQ's fetch
  loop takes about 6 (a fetch that finds the job, one or two that find the queue empty, two
  blocking waits, the completion); the worker's own code sends 4: the try's opening (suppression
  check, provider slots, the SMS call's record, \`worker/try-opening.ts\`), the email's slot with
  its batch pointer, the SMS's provider-id claim, the delivery record. Each Lua script goes as
  EVALSHA once a connection has loaded it (\`lib/redis-script.ts\`). A batched email costs
  ${drain.steady.redisCommandsPerEmail ?? "n/a"} commands in the drain, delivery only.
- **Cold start** (${cold.gatewayOfBareQueueRoute} × the bare route; ${cold.ratio} × the
  hello-world). A bare Hono + zod + BullMQ route already takes several times the hello-world:
  importing BullMQ and ioredis and the Redis handshake, outside the project's code. The gateway
  starts from one bundled file (esbuild), so Node reads one module instead of resolving hundreds
  under node_modules; Bull Board, Scalar's page, the tracing SDK (only when tracing is on) and the
  resend SDK (its webhook) are chunks loaded on first use, and the twilio SDK (about 0.2 s and
  27 MB, left in node_modules) is imported by the first Twilio webhook.
- **Memory.** Uncapped, V8 lets the gateway grow to about 220 MiB under sustained intake (measured
  apart from this run, 20 s of wrk); the production start command's
  \`--max-old-space-size=96 --max-semi-space-size=8\` (package.json's start scripts and every
  deploy file; the bench starts the built processes with them) keeps it under 150 MiB, at the price
  of more frequent garbage collections.`;
}
