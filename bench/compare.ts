/**
 * `npm run bench:compare -- <before.mjs> <after.mjs>`: two gateway bundles under the same load at
 * the same time, for measuring one change (bench/side-by-side.ts): each one's CPU a 2xx request
 * and after ÷ before per round, at a fixed rate (`--rate`, per gateway, default 1,200 req/s).
 *
 * Make the "before" bundle from another checkout: `git worktree add /tmp/before main`, then
 * `npm ci && npm run build` there, and pass `/tmp/before/dist/gateway.mjs`.
 * Options: `--rate N`, `--seconds N` (per round, default 8), `--rounds N` (default 5),
 * `--env '{"LOG_LEVEL":"info"}'` (both sides; the bench's own default is warn),
 * `--before-env '{…}'` and `--after-env '{…}'` (one side each, on top of --env).
 */
import { parseArgs } from "node:util";
import { loadTool } from "./intake.js";
import { measureSideBySide } from "./side-by-side.js";
import { median, round, startRedis } from "./support.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rate: { type: "string", default: "1200" },
    seconds: { type: "string", default: "8" },
    rounds: { type: "string", default: "5" },
    env: { type: "string", default: "{}" },
    "before-env": { type: "string", default: "{}" },
    "after-env": { type: "string", default: "{}" },
  },
});
const [before, after] = positionals;
if (!before || !after) {
  throw new Error("usage: npm run bench:compare -- <before gateway.mjs> <after gateway.mjs>");
}
const env = { API_RATE_LIMIT_PER_MINUTE: "0", ...JSON.parse(values.env) };

const redis = await startRedis();
try {
  const rounds = await measureSideBySide({
    redisUrl: redis.url,
    tool: loadTool(),
    before: { bundle: before, env: { ...env, ...JSON.parse(values["before-env"]) } },
    after: { bundle: after, env: { ...env, ...JSON.parse(values["after-env"]) } },
    rate: Number(values.rate),
    seconds: Number(values.seconds),
    rounds: Number(values.rounds),
    onRound: (result, index) =>
      console.log(
        `round ${index + 1}: before ${result.beforeUs} µs, after ${result.afterUs} µs a request, after ÷ before ${result.ratio}; non-2xx ${result.non2xx.join(" / ")}`,
      ),
  });
  console.log(
    `median after ÷ before, CPU a request: ${round(median(rounds.map((r) => r.ratio)), 3)}`,
  );
} finally {
  await redis.stop();
}
