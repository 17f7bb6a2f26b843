/** The intake section's target and reference rows, shared by the full run and `--only intake`. */

import { existsSync, readFileSync } from "node:fs";
import { FEATURES, type FeatureCost, type FeatureCosts } from "./feature-costs.js";
import type { measureIntake } from "./intake.js";
import type { Target } from "./report.js";
import { median, round } from "./support.js";

type Intake = Awaited<ReturnType<typeof measureIntake>>;

/** The gateway's intake in the last full report (BENCHMARKS.json), read before it is rewritten. */
export interface PreviousIntake {
  date: string;
  gatewayOfBareRoute: number;
  gatewayRequestsPerSecond: number;
}

/** The committed report's gateway figures, or undefined when there is none to compare with. */
export function readPreviousIntake(file = "BENCHMARKS.json"): PreviousIntake | undefined {
  if (!existsSync(file)) return undefined;
  const report = JSON.parse(readFileSync(file, "utf8"));
  const intake = report?.intake;
  if (report?.mode !== "full" || typeof intake?.gatewayOfBareRoute !== "number") return undefined;
  return {
    date: report.date,
    gatewayOfBareRoute: intake.gatewayOfBareRoute,
    gatewayRequestsPerSecond: Math.round(median(intake.gatewayRequestsPerSecond)),
  };
}

/**
 * "Tracing off costs nothing measurable": this run's gateway (no OTEL_* variable) ÷ bare route
 * may fall below the previous report's by no more than this run's own noise, the range of its
 * rounds' ratios. Ratios to the bare route measured in the same round, so a busier machine
 * than last time moves both sides. Without a previous report, nothing to judge: a miss.
 */
export function tracingOffTarget(intake: Intake, previous: PreviousIntake | undefined): Target {
  const now = intake.gatewayOfBareRoute;
  const spread = intake.gatewayOfBareRouteSpread;
  return {
    what: "Tracing off costs nothing measurable: gateway (no OTEL_*) ÷ bare route, this run vs the last report",
    value: previous
      ? `${now} vs ${previous.gatewayOfBareRoute} (rounds' range ${spread})`
      : `${now} (no previous report)`,
    target: "drop ≤ the rounds' range",
    pass: previous !== undefined && previous.gatewayOfBareRoute - now <= spread,
  };
}

/** The intake targets: throughput against the bare route, p99 at half rate, tracing off. */
export function intakeTargets(intake: Intake, previous: PreviousIntake | undefined): Target[] {
  return [
    {
      what: `Gateway 2xx intake ÷ bare route, per-key limit off (${intake.tool})`,
      value: intake.gatewayOfBareRoute,
      target: "≥ 0.9",
      pass: intake.gatewayOfBareRoute >= 0.9,
    },
    {
      what: "Gateway 2xx intake ÷ bare route, per-key limit on, Idempotency-Key on each request",
      value: intake.limitedGatewayOfBareRoute,
      target: "≥ 0.9",
      pass: intake.limitedGatewayOfBareRoute >= 0.9,
    },
    {
      what: `Gateway p99 ÷ bare route's p99, both at half the gateway's max rate (${intake.halfRate} req/s)`,
      value: `${intake.p99OfBareRoute} (${intake.p99AtHalfRateMs} / ${intake.bareRouteP99AtHalfRateMs} ms)`,
      target: "≤ 2.0",
      pass: intake.p99OfBareRoute <= 2,
    },
    tracingOffTarget(intake, previous),
  ];
}

/** The gateway's memory target (a row of the intake run, listed with the worker's). */
export function gatewayRssTarget(intake: Intake): Target {
  return {
    what: "Gateway RSS idle / after intake",
    value: `${intake.gatewayRssIdleMiB} / ${intake.gatewayRssAfterIntakeMiB} MiB`,
    target: "≤ 150 MiB",
    pass: intake.gatewayRssAfterIntakeMiB <= 150 && intake.gatewayRssIdleMiB <= 150,
  };
}

/** Figures measured beside the intake targets, that show where a miss comes from. */
export function intakeReferences(intake: Intake, previous: PreviousIntake | undefined) {
  const loadTool =
    intake.tool === "wrk"
      ? `wrk, ${intake.wrkThreads} thread, ${intake.connections} connections`
      : `autocannon, ${intake.connections} connections (wrk not installed)`;
  const medianRate = (rates: number[]) => Math.round(median(rates));
  return [
    { what: "Load generator for the HTTP figures", value: loadTool },
    {
      what: "2xx requests/s, median: gateway (limit off) / gateway (limit on, idempotency) / bare route / raw queue.add",
      value: [
        intake.gatewayRequestsPerSecond,
        intake.limitedGatewayRequestsPerSecond,
        intake.bareRouteRequestsPerSecond,
        intake.rawAddsPerSecond,
      ]
        .map(medianRate)
        .join(" / "),
    },
    {
      what: "The bare route making the limited gateway's Redis round trips (rate-limiter-flexible, claim, add, confirm; bench/bare-intake-server.mjs): 2xx requests/s; ÷ bare route; the limited gateway ÷ it",
      value: `${medianRate(intake.bareLimitedRouteRequestsPerSecond)}; ${intake.bareLimitedRouteOfBareRoute}; ${intake.limitedGatewayOfBareLimitedRoute}`,
    },
    {
      what: "The bare route with the gateway's per-request features added the libraries' own way (hono's requestId, secureHeaders, bearerAuth, bodyLimit; prom-client series; a pino line; the contract; bench/featured-intake-server.ts): 2xx requests/s; the gateway (limit off) ÷ it; the bare route ÷ it",
      value: `${medianRate(intake.featuredRouteRequestsPerSecond)}; ${intake.gatewayOfFeaturedRoute}; ${intake.bareRouteOfFeaturedRoute}`,
    },
    {
      what: "The bare route with the gateway's own code for each feature, inline in its one handler (no middleware chain, router or error handler; bench/inline-intake-server.ts): 2xx requests/s; ÷ bare route; the gateway (limit off) ÷ it",
      value: `${medianRate(intake.inlineRouteRequestsPerSecond)}; ${intake.inlineRouteOfBareRoute}; ${intake.gatewayOfInlineRoute}`,
    },
    {
      what: "The gateway (limit off) at LOG_LEVEL=info, the production default (a JSON line per request on stdout; the targets run at warn): 2xx requests/s; ÷ the gateway at warn; by CPU a request; ÷ bare route",
      value: `${medianRate(intake.loggingGatewayRequestsPerSecond)}; ${intake.loggingGatewayOfGateway}; ${intake.loggingGatewayOfGatewayByCpu}; ${intake.loggingGatewayOfBareRoute}`,
    },
    {
      what: "Server CPU per 2xx request (user + system, /proc), median µs: gateway (limit off) / gateway (limit on) / bare route / bare route with the limit's round trips / bare route with the features the libraries' way / the features inline / gateway at LOG_LEVEL=info",
      value: [
        intake.cpuUsPerRequest.gateway,
        intake.cpuUsPerRequest.limitedGateway,
        intake.cpuUsPerRequest.bareRoute,
        intake.cpuUsPerRequest.bareLimitedRoute,
        intake.cpuUsPerRequest.featuredRoute,
        intake.cpuUsPerRequest.inlineRoute,
        intake.cpuUsPerRequest.loggingGateway,
      ]
        .map((values) => Math.round(median(values ?? [])))
        .join(" / "),
    },
    {
      what: "Bare route's CPU per request ÷ the gateway's, median of rounds: limit off / limit on (the throughput ratio its CPU alone predicts)",
      value: `${intake.gatewayOfBareRouteByCpu} / ${intake.limitedGatewayOfBareRouteByCpu}`,
    },
    {
      what: "Answers not counted (non-2xx): gateway (limit off) / gateway (limit on) / bare route / bare route with the limit's round trips / bare route with the features the libraries' way / the features inline / gateway at LOG_LEVEL=info",
      value: [
        intake.non2xx.gateway,
        intake.non2xx.limitedGateway,
        intake.non2xx.bareRoute,
        intake.non2xx.bareLimitedRoute,
        intake.non2xx.featuredRoute,
        intake.non2xx.inlineRoute,
        intake.non2xx.loggingGateway,
      ]
        .map((count) => count ?? "n/a")
        .join(" / "),
    },
    { what: "Gateway (limit off) ÷ raw queue.add from 32 loops", value: intake.gatewayOfRaw },
    { what: "Gateway (limit on, idempotency) ÷ raw queue.add", value: intake.limitedGatewayOfRaw },
    { what: "Bare Hono + zod + queue.add route ÷ raw queue.add", value: intake.bareRouteOfRaw },
    {
      what: `Rate reached while paced at ${intake.halfRate} req/s (gateway)`,
      value: `${intake.pacedGatewayRequestsPerSecond} req/s`,
    },
    {
      what: "Tracing off ÷ tracing on (OTLP/protobuf to a discarding collector, every request sampled), median of rounds (range)",
      value: `${intake.tracingOffOfOn} (${intake.tracingOffOfOnSpread})`,
    },
    {
      what: "2xx requests/s, median: gateway tracing off / on; on ÷ bare route; exports received; RSS after intake (on)",
      value: `${medianRate(intake.gatewayRequestsPerSecond)} / ${medianRate(intake.tracedGatewayRequestsPerSecond)}; ${intake.tracedGatewayOfBareRoute}; ${intake.collectorExports}; ${intake.tracedGatewayRssAfterIntakeMiB} MiB`,
    },
    {
      what: "Gateway (limit off) in the last report: 2xx requests/s, ÷ bare route (date)",
      value: previous
        ? `${previous.gatewayRequestsPerSecond}, ${previous.gatewayOfBareRoute} (${previous.date}); this run ${medianRate(intake.gatewayRequestsPerSecond)}, ${round(intake.gatewayOfBareRoute)}`
        : "no previous full report",
    },
  ];
}

/** The gateway's CPU a request by feature (bench/feature-costs.ts), as References rows. */
export function featureCostReferences(costs: FeatureCosts | undefined) {
  if (!costs) return [];
  const cost = ({ us, shareOfBareRoute, rangeUs }: FeatureCost) =>
    `${us} (${Math.round(shareOfBareRoute * 100)} %; ${rangeUs.join(" to ")})`;
  const at = `side by side at ${costs.rate} req/s each, ${costs.rounds} rounds of ${costs.seconds} s`;
  return [
    {
      what: `Bare route's CPU a request at that rate (${at}), µs; the inline route against itself (noise), µs (share; rounds' range)`,
      value: `${costs.bareRouteUs}; ${cost(costs.noise)}`,
    },
    {
      what: `CPU a request each feature adds to the inline route, µs (share of the bare route's CPU; rounds' range): ${FEATURES.join(" / ")}`,
      value: FEATURES.map((feature) => {
        const measured = costs.features[feature];
        return measured ? cost(measured) : "n/a";
      }).join(" / "),
    },
    {
      what: "Every feature at once, µs (share; rounds' range); the seven added up, µs; the gateway's structure on top (the gateway against the inline route with every feature), µs (share; rounds' range)",
      value: `${cost(costs.allFeatures)}; ${costs.allFeatures.summedUs}; ${cost(costs.structure)}`,
    },
  ];
}
