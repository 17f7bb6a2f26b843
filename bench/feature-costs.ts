/**
 * Where the gateway's CPU goes, feature by feature: the inline route (inline-intake-server.ts)
 * with all of the gateway's per-request features, side by side with the same route without one of
 * them (bench/side-by-side.ts, CPU a 2xx request at a fixed rate); the difference is that
 * feature's cost. Also the bare route beside the inline route without any (what the inline
 * route's own frame costs: about nothing), and the inline route beside the gateway (what the
 * gateway's structure adds: middleware chain, router, error handler). Each as µs a request and
 * as a share of the bare route's CPU: the 0.9 target leaves the gateway 1 ÷ 0.9 − 1 = 11 % more
 * CPU a request than the bare route.
 */
import type { LoadTool } from "./intake.js";
import { measureSideBySide, type Side } from "./side-by-side.js";
import {
  BARE_ROUTE,
  bundleInlineRoute,
  GATEWAY_BUNDLE,
  INLINE_ROUTE,
  median,
  round,
} from "./support.js";

/** The inline route's features as INLINE_WITHOUT names them, in the order a request meets them. */
export const FEATURE_DESCRIPTIONS: Record<string, string> = {
  headers: "the security headers and the request id",
  auth: "the API key",
  checks: "the body size, media type and Idempotency-Key checks",
  schema: "the contract's schema",
  job: "the gateway's job and enqueuer",
  telemetry: "the request's metrics and log call",
  connection: "the gateway's Redis connection",
};
export const FEATURES = Object.keys(FEATURE_DESCRIPTIONS);

/**
 * Each feature's pair: the inline route without it, and with it. Without the contract's schema
 * there is no job to build but the bare one, so the schema is measured with the job off on both
 * sides.
 */
const PAIRS = FEATURES.map((feature) =>
  feature === "schema"
    ? { feature, without: ["schema", "job"], with: ["job"] }
    : { feature, without: [feature], with: [] },
);

/** Each side's load: below what one of these servers takes while the other runs. */
export const FEATURE_COSTS_RATE = 1200;

export type FeatureCosts = Awaited<ReturnType<typeof measureFeatureCosts>>;

/** One difference: µs a request, its share of the bare route's CPU, the rounds' lowest and highest. */
export interface FeatureCost {
  us: number;
  shareOfBareRoute: number;
  rangeUs: number[];
}

export async function measureFeatureCosts(options: {
  redisUrl: string;
  tool: LoadTool;
  rate: number;
  seconds: number;
  rounds: number;
}) {
  await bundleInlineRoute();
  /** Median CPU µs a request of each side over the rounds of one side-by-side run. */
  const pair = async (before: Side, after: Side) => {
    const rounds = await measureSideBySide({ ...options, before, after });
    // Each round's difference, so that the drift both sides share cancels.
    const differences = rounds.map((r) => r.afterUs - r.beforeUs);
    return {
      beforeUs: median(rounds.map((r) => r.beforeUs)),
      afterUs: median(rounds.map((r) => r.afterUs)),
      differenceUs: median(differences),
      /** The lowest and the highest round: how far one difference can be trusted. */
      rangeUs: [Math.min(...differences), Math.max(...differences)] as const,
    };
  };
  const inline = (without: string[] = []): Side => ({
    bundle: INLINE_ROUTE,
    env: { INLINE_WITHOUT: without.join(",") },
  });
  const frame = await pair({ bundle: BARE_ROUTE }, inline(FEATURES));
  const bareUs = frame.beforeUs;
  // All of them at once: the features do not add up exactly (they share caches, collections and
  // loop turns), and one difference has one run's noise where a sum has seven.
  const whole = await pair(inline(FEATURES), inline());
  const share = (us: number) => round(us / bareUs, 3);
  /** A difference as µs, share of the bare route's CPU, and the rounds' range in µs. */
  const cost = (measured: Awaited<ReturnType<typeof pair>>): FeatureCost => ({
    us: round(measured.differenceUs, 0),
    shareOfBareRoute: share(measured.differenceUs),
    rangeUs: measured.rangeUs.map((us) => round(us, 0)),
  });
  const features: Record<string, FeatureCost> = {};
  for (const measured of PAIRS) {
    features[measured.feature] = cost(await pair(inline(measured.without), inline(measured.with)));
  }
  // The same route on both sides: how far apart two sides read when nothing differs.
  const same = await pair(inline(), inline());
  const structure = await pair(inline(), {
    bundle: GATEWAY_BUNDLE,
    env: { API_RATE_LIMIT_PER_MINUTE: "0" },
  });
  const summedUs = Object.values(features).reduce((sum, { us }) => sum + us, 0);
  return {
    rate: options.rate,
    seconds: options.seconds,
    rounds: options.rounds,
    bareRouteUs: round(bareUs, 0),
    /** The inline route against itself: a difference where there is none. */
    noise: cost(same),
    /** The inline route without any feature against the bare route: its own frame. */
    frame: cost(frame),
    features,
    /** Every feature at once (the inline route without any, and with all), and the sum of each one's. */
    allFeatures: { ...cost(whole), summedUs: round(summedUs, 0) },
    /** The gateway against the inline route with every feature: its structure. */
    structure: cost(structure),
    /** The inline route with every feature and the gateway, CPU µs a request. */
    inlineRouteUs: round(structure.beforeUs, 0),
    gatewayUs: round(structure.afterUs, 0),
  };
}
