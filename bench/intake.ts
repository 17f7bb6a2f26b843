import { randomUUID } from "node:crypto";
import autocannon from "autocannon";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import {
  NOTIFICATION_QUEUE,
  notificationJobOptions,
  TRADE_EXECUTED_JOB,
} from "../contract/notification-job.js";
import { DEFAULT_JOB_SETTINGS } from "../lib/env.js";
import { bundleEntry } from "../scripts/bundle.js";
import { freePort } from "../scripts/redis-server.js";
import { startOtlpCollector } from "../test/support/otlp-collector.js";
import { waitForHttpOk } from "../test/support/wait.js";
import {
  BARE_ROUTE,
  type BuiltProcess,
  bundleInlineRoute,
  GATEWAY_BUNDLE,
  hasProgram,
  INLINE_ROUTE,
  median,
  round,
  runProgram,
  startBuilt,
} from "./support.js";

export const BENCH_API_KEY = "bench-key-0123456789abcdef";
export const NOTIFICATION = {
  to: "user@example.com",
  phone: "+12025550143",
  asset: "BTC",
  amount: 1000,
  quantity: 0.02,
  order: "order-id-123",
};
const CONNECTIONS = 32;
/** The per-key limit of the limited gateway: on, but far above what a run sends (no 429). */
const LIMITED_GATEWAY_PER_MINUTE = 10_000_000;

/** Starts the built gateway and waits until it answers. */
export async function startGateway(
  redisUrl: string,
  env: Record<string, string> = {},
  bundle = GATEWAY_BUNDLE,
) {
  const port = await freePort();
  const gateway = startBuilt(bundle, {
    REDIS_URL: redisUrl,
    PORT: String(port),
    API_KEYS: BENCH_API_KEY,
    // /metrics has its own port (9090 by default): any free one, so gateways run side by side.
    METRICS_PORT: "0",
    ...env,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUntilReady(`${url}/readyz`, gateway);
  return { gateway, url };
}

/** Waits until a readiness URL answers 200; fails at once if the process died. */
export function waitUntilReady(url: string, process: BuiltProcess, timeoutMs = 15_000) {
  return waitForHttpOk(url, {
    timeout: timeoutMs,
    stillRunning: () => {
      if (process.child.exitCode !== null) throw new Error(`exited:\n${process.lines.join("\n")}`);
    },
  });
}

/** The HTTP load generator: wrk (a C program) when installed, autocannon (in this process) if not. */
export type LoadTool = "wrk" | "autocannon";

export function loadTool(): LoadTool {
  return hasProgram("wrk", ["--version"]) ? "wrk" : "autocannon";
}

/** wrk's threads: one leaves the most of the two cores to the server under test. */
const WRK_THREADS = 1;

/** What one load run got: only 2xx answers count towards the rate. */
interface LoadResult {
  /** 2xx answers a second. */
  rate: number;
  /** 2xx answers in all. */
  ok: number;
  /** Answers other than 2xx (and 3xx, which wrk cannot tell apart), counted, not in the rate. */
  non2xx: number;
  /** Connection errors and timeouts. */
  errors: number;
  p99Ms: number;
}

interface Target {
  url: string;
  /** A unique Idempotency-Key on every request. */
  idempotency?: boolean;
}

/** `POST /notifications` from 32 connections for `durationS`, as fast as possible or at `rate`. */
export function postNotifications(
  tool: LoadTool,
  target: Target,
  durationS: number,
  rate = 0,
): Promise<LoadResult> {
  return tool === "wrk"
    ? postWithWrk(target, durationS, rate)
    : postWithAutocannon(target, durationS, rate);
}

async function postWithWrk(target: Target, durationS: number, rate: number): Promise<LoadResult> {
  const output = await runProgram(
    "wrk",
    [
      `-t${WRK_THREADS}`,
      `-c${CONNECTIONS}`,
      `-d${durationS}s`,
      "--timeout",
      "10s",
      "-s",
      "bench/wrk-post.lua",
      `${target.url}/notifications`,
      "--",
      BENCH_API_KEY,
      JSON.stringify(NOTIFICATION),
      target.idempotency ? "1" : "0",
      String(rate),
      String(WRK_THREADS),
      randomUUID(),
    ],
    (durationS + 30) * 1000,
  );
  const line = output
    .split("\n")
    .reverse()
    .find((candidate) => candidate.startsWith("{"));
  if (!line) throw new Error(`wrk printed no summary:\n${output}`);
  const summary = JSON.parse(line) as Record<string, number>;
  const value = (name: string) => summary[name] ?? 0;
  const ok = value("requests") - value("non2xx");
  return {
    ok,
    rate: ok / (value("durationUs") / 1e6),
    non2xx: value("non2xx"),
    errors: value("connectErrors") + value("readErrors") + value("writeErrors") + value("timeouts"),
    p99Ms: value("p99Us") / 1000,
  };
}

async function postWithAutocannon(
  target: Target,
  durationS: number,
  rate: number,
): Promise<LoadResult> {
  const result = await autocannon({
    url: `${target.url}/notifications`,
    connections: CONNECTIONS,
    duration: durationS,
    ...(rate > 0 ? { overallRate: rate } : {}),
    requests: [
      {
        method: "POST",
        headers: { authorization: `Bearer ${BENCH_API_KEY}`, "content-type": "application/json" },
        body: JSON.stringify(NOTIFICATION),
        ...(target.idempotency
          ? {
              setupRequest: (request) => ({
                ...request,
                headers: { ...request.headers, "idempotency-key": randomUUID() },
              }),
            }
          : {}),
      },
    ],
  });
  return {
    ok: result["2xx"],
    rate: result["2xx"] / result.duration,
    non2xx: result.non2xx,
    errors: result.errors,
    p99Ms: result.latency.p99,
  };
}

/** `queue.add` from 32 concurrent loops in this process: what a backend calling BullMQ gets. */
async function rawBullmqRate(queue: Queue, durationS: number): Promise<number> {
  const options = notificationJobOptions(DEFAULT_JOB_SETTINGS);
  const end = Date.now() + durationS * 1000;
  let added = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (Date.now() < end) {
        await queue.add(TRADE_EXECUTED_JOB, NOTIFICATION, { ...options, jobId: randomUUID() });
        added += 1;
      }
    }),
  );
  return added / ((performance.now() - started) / 1000);
}

/**
 * Intake in alternating rounds on one Redis, flushed between runs: raw `queue.add` from 32 loops,
 * the bare Hono + zod + queue.add route, the gateway with its default middlewares and the per-key
 * limit off, and the gateway with the per-key limit on (too high to answer 429) and a unique
 * Idempotency-Key on every request. Beside the first gateway (tracing off: no OTEL_* variable), the
 * same gateway with tracing on, exporting OTLP/protobuf to a stand-in collector in this process
 * that discards what it receives; the two run next to each other in each round, in alternating
 * order. Then the p99 latency of the gateway and of the bare route at
 * half the gateway's measured maximum rate, and the gateway's memory before and after.
 */
export async function measureIntake(options: {
  redisUrl: string;
  durationS: number;
  rounds: number;
}) {
  const tool = loadTool();
  const flusher = new Redis(options.redisUrl);
  // The default per-key limit (1,200 a minute) would answer most of a load test with 429.
  const { gateway, url } = await startGateway(options.redisUrl, { API_RATE_LIMIT_PER_MINUTE: "0" });
  const limited = await startGateway(options.redisUrl, {
    API_RATE_LIMIT_PER_MINUTE: String(LIMITED_GATEWAY_PER_MINUTE),
  });
  // Every process of the bench logs at warn; this one at the production default, info: a JSON
  // line per request on stdout, which the bench reads as a platform's log collector would.
  const logging = await startGateway(options.redisUrl, {
    API_RATE_LIMIT_PER_MINUTE: "0",
    LOG_LEVEL: "info",
  });
  const collector = await startOtlpCollector({ discard: true });
  const traced = await startGateway(options.redisUrl, {
    API_RATE_LIMIT_PER_MINUTE: "0",
    OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
  });
  const rssIdle = gateway.rssMiB();
  const queue = new Queue(NOTIFICATION_QUEUE, { connection: { url: options.redisUrl } });
  // The ceiling of this HTTP stack: a bare Hono + zod + queue.add route, measured alongside.
  const barePort = await freePort();
  const bare = startBuilt(BARE_ROUTE, {
    REDIS_URL: options.redisUrl,
    PORT: String(barePort),
  });
  // The same route making the limited gateway's Redis round trips (limit, claim, add, confirm).
  const bareLimitedPort = await freePort();
  const bareLimited = startBuilt(BARE_ROUTE, {
    REDIS_URL: options.redisUrl,
    PORT: String(bareLimitedPort),
    BARE_LIMIT_PER_MINUTE: String(LIMITED_GATEWAY_PER_MINUTE),
  });
  // The bare route with the gateway's per-request features added the libraries' own way; it
  // imports the contract, so it runs bundled, as the gateway does.
  await bundleEntry("bench/featured-intake-server.ts", "dist/bench", "featured-intake-server");
  const featuredPort = await freePort();
  const featured = startBuilt("dist/bench/featured-intake-server.mjs", {
    REDIS_URL: options.redisUrl,
    PORT: String(featuredPort),
    API_KEYS: BENCH_API_KEY,
  });
  // The bare route with the gateway's own code for each feature, inline in its one handler.
  await bundleInlineRoute();
  const inlinePort = await freePort();
  const inline = startBuilt(INLINE_ROUTE, {
    REDIS_URL: options.redisUrl,
    PORT: String(inlinePort),
    API_KEYS: BENCH_API_KEY,
  });
  const targets = {
    gateway: { url, server: gateway },
    limitedGateway: { url: limited.url, idempotency: true, server: limited.gateway },
    tracedGateway: { url: traced.url, server: traced.gateway },
    loggingGateway: { url: logging.url, server: logging.gateway },
    bareRoute: { url: `http://127.0.0.1:${barePort}`, server: bare },
    bareLimitedRoute: {
      url: `http://127.0.0.1:${bareLimitedPort}`,
      idempotency: true,
      server: bareLimited,
    },
    featuredRoute: { url: `http://127.0.0.1:${featuredPort}`, server: featured },
    inlineRoute: { url: `http://127.0.0.1:${inlinePort}`, server: inline },
  };
  await waitUntilReady(`${targets.bareRoute.url}/readyz`, bare);
  await waitUntilReady(`${targets.featuredRoute.url}/readyz`, featured);
  await waitUntilReady(`${targets.inlineRoute.url}/readyz`, inline);
  await waitUntilReady(`${targets.bareLimitedRoute.url}/readyz`, bareLimited);
  /** One value per HTTP target, each made by `make`. */
  const perTarget = <T>(make: () => T) =>
    Object.fromEntries(Object.keys(targets).map((name) => [name, make()])) as Record<
      keyof typeof targets,
      T
    >;
  const rates = perTarget((): number[] => []);
  /** The server's CPU time (user + system, /proc) over a run, per 2xx answer, in µs. */
  const cpuUs = perTarget((): number[] => []);
  const rawRates: number[] = [];
  const non2xx = perTarget(() => 0);
  const errors = perTarget(() => 0);
  const count = (name: keyof typeof rates, result: LoadResult) => {
    non2xx[name] += result.non2xx;
    errors[name] += result.errors;
    return result;
  };
  try {
    // Warm-up: JIT, connections; a cold process runs at a fraction of its speed for seconds.
    for (const target of Object.values(targets)) await postNotifications(tool, target, 3);
    await flusher.flushall();
    for (let round = 0; round < options.rounds; round++) {
      // The targets in a row, the order reversed every other round: the gateway always runs
      // between tracing on and the bare route, the limited gateway between the bare route and
      // its limited twin, and which of two neighbours goes first alternates. This machine's
      // speed drifts over tens of seconds; neighbours share the drift, so a round's ratio keeps
      // less of it.
      const sequence = [
        "inlineRoute",
        "featuredRoute",
        "loggingGateway",
        "tracedGateway",
        "gateway",
        "bareRoute",
        "limitedGateway",
        "bareLimitedRoute",
        "raw",
      ] as const;
      const order = round % 2 === 0 ? sequence : [...sequence].reverse();
      for (const name of order) {
        if (name === "raw") rawRates.push(await rawBullmqRate(queue, options.durationS));
        else {
          const { server } = targets[name];
          const cpuBefore = server.cpuMs();
          const result = count(
            name,
            await postNotifications(tool, targets[name], options.durationS),
          );
          rates[name].push(result.rate);
          cpuUs[name].push(((server.cpuMs() - cpuBefore) * 1000) / Math.max(result.ok, 1));
        }
        await flusher.flushall();
      }
    }
    const maxRate = median(rates.gateway);
    const halfRate = Math.floor(maxRate / 2);
    const p99s: number[] = [];
    const bareP99s: number[] = [];
    const pacedRates: number[] = [];
    for (let round = 0; round < options.rounds; round++) {
      const paced = count(
        "gateway",
        await postNotifications(tool, targets.gateway, options.durationS, halfRate),
      );
      p99s.push(paced.p99Ms);
      pacedRates.push(paced.rate);
      await flusher.flushall();
      // The bare route at the same rate: what this machine's HTTP stack allows.
      const bareResult = count(
        "bareRoute",
        await postNotifications(tool, targets.bareRoute, options.durationS, halfRate),
      );
      bareP99s.push(bareResult.p99Ms);
      await flusher.flushall();
    }
    const roundRatios = (values: number[], base: number[]) =>
      values.map((value, index) => value / (base[index] ?? Number.NaN));
    const ratiosTo = (values: number[], base: number[]) => round(median(roundRatios(values, base)));
    const spread = (values: number[], base: number[]) => {
      const ratios = roundRatios(values, base);
      return round(Math.max(...ratios) - Math.min(...ratios));
    };
    const p99 = median(p99s);
    const bareP99 = median(bareP99s);
    return {
      tool,
      ...(tool === "wrk" ? { wrkThreads: WRK_THREADS } : {}),
      connections: CONNECTIONS,
      limitedGatewayPerMinute: LIMITED_GATEWAY_PER_MINUTE,
      gatewayRequestsPerSecond: rates.gateway.map((rate) => round(rate, 0)),
      limitedGatewayRequestsPerSecond: rates.limitedGateway.map((rate) => round(rate, 0)),
      tracedGatewayRequestsPerSecond: rates.tracedGateway.map((rate) => round(rate, 0)),
      bareRouteRequestsPerSecond: rates.bareRoute.map((rate) => round(rate, 0)),
      bareLimitedRouteRequestsPerSecond: rates.bareLimitedRoute.map((rate) => round(rate, 0)),
      featuredRouteRequestsPerSecond: rates.featuredRoute.map((rate) => round(rate, 0)),
      inlineRouteRequestsPerSecond: rates.inlineRoute.map((rate) => round(rate, 0)),
      loggingGatewayRequestsPerSecond: rates.loggingGateway.map((rate) => round(rate, 0)),
      rawAddsPerSecond: rawRates.map((rate) => round(rate, 0)),
      non2xx,
      errors,
      gatewayOfBareRoute: ratiosTo(rates.gateway, rates.bareRoute),
      limitedGatewayOfBareRoute: ratiosTo(rates.limitedGateway, rates.bareRoute),
      /** The bare route with the limited gateway's Redis round trips ÷ the bare route. */
      bareLimitedRouteOfBareRoute: ratiosTo(rates.bareLimitedRoute, rates.bareRoute),
      limitedGatewayOfBareLimitedRoute: ratiosTo(rates.limitedGateway, rates.bareLimitedRoute),
      /** The gateway ÷ the bare route with its features added the libraries' way, and the bare route ÷ it. */
      gatewayOfFeaturedRoute: ratiosTo(rates.gateway, rates.featuredRoute),
      bareRouteOfFeaturedRoute: ratiosTo(rates.bareRoute, rates.featuredRoute),
      /** The inline route ÷ the bare route (the features' price), the gateway ÷ it (its structure's). */
      inlineRouteOfBareRoute: ratiosTo(rates.inlineRoute, rates.bareRoute),
      gatewayOfInlineRoute: ratiosTo(rates.gateway, rates.inlineRoute),
      /** The gateway at LOG_LEVEL=info ÷ at warn: by rate, and by CPU a request (warn ÷ info). */
      loggingGatewayOfGateway: ratiosTo(rates.loggingGateway, rates.gateway),
      loggingGatewayOfGatewayByCpu: ratiosTo(cpuUs.gateway, cpuUs.loggingGateway),
      loggingGatewayOfBareRoute: ratiosTo(rates.loggingGateway, rates.bareRoute),
      /** The range (max − min) of the rounds' gateway ÷ bare route ratios: this run's noise. */
      gatewayOfBareRouteSpread: spread(rates.gateway, rates.bareRoute),
      tracedGatewayOfBareRoute: ratiosTo(rates.tracedGateway, rates.bareRoute),
      /** Tracing off ÷ tracing on, the median of the rounds' ratios, and their range. */
      tracingOffOfOn: ratiosTo(rates.gateway, rates.tracedGateway),
      tracingOffOfOnSpread: spread(rates.gateway, rates.tracedGateway),
      /** Trace exports the stand-in collector received from the traced gateway (0: tracing never ran). */
      collectorExports: collector.received(),
      /** CPU µs per 2xx answer of each server, every round: steadier than rates on a busy VM. */
      cpuUsPerRequest: Object.fromEntries(
        Object.entries(cpuUs).map(([name, values]) => [name, values.map((us) => round(us, 0))]),
      ),
      /** The bare route's CPU per request ÷ the gateway's: the ratio the CPU alone predicts. */
      gatewayOfBareRouteByCpu: ratiosTo(cpuUs.bareRoute, cpuUs.gateway),
      limitedGatewayOfBareRouteByCpu: ratiosTo(cpuUs.bareRoute, cpuUs.limitedGateway),
      gatewayOfRaw: ratiosTo(rates.gateway, rawRates),
      limitedGatewayOfRaw: ratiosTo(rates.limitedGateway, rawRates),
      bareRouteOfRaw: ratiosTo(rates.bareRoute, rawRates),
      halfRate,
      pacedGatewayRequestsPerSecond: round(median(pacedRates), 0),
      p99AtHalfRateMs: round(p99),
      bareRouteP99AtHalfRateMs: round(bareP99),
      p99OfBareRoute: round(p99 / bareP99),
      gatewayRssIdleMiB: rssIdle,
      gatewayRssAfterIntakeMiB: gateway.rssMiB(),
      limitedGatewayRssAfterIntakeMiB: limited.gateway.rssMiB(),
      tracedGatewayRssAfterIntakeMiB: traced.gateway.rssMiB(),
    };
  } finally {
    await queue.close();
    await Promise.all(Object.values(targets).map(({ server }) => server.stop()));
    await collector.close();
    flusher.disconnect();
  }
}
