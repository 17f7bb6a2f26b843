/**
 * `npm run bench:compare -- <before.mjs> <after.mjs>`: two gateway bundles under the same load at
 * the same time, for measuring one change. Each gets its own load, as the intake bench sends it
 * (bench/intake.ts, wrk when installed), at a fixed rate (`--rate`, per gateway, default 1,200
 * req/s: below what one gateway takes while the other runs) on one Redis;
 * the result is each one's CPU a 2xx request (user + system, /proc) and after ÷ before per round.
 * Measured at the same time, both sides share this machine's speed drift, which moves a full
 * run's figures by tens of per cent: rounds of this comparison agree within about 2 %.
 *
 * Make the "before" bundle from another checkout: `git worktree add /tmp/before main`, then
 * `npm ci && npm run build` there, and pass `/tmp/before/dist/gateway.mjs`.
 * Options: `--rate N`, `--seconds N` (per round, default 8), `--rounds N` (default 5),
 * `--env '{"LOG_LEVEL":"info"}'` (both gateways; the bench's own default is warn).
 */
import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import { loadTool, postNotifications, startGateway } from "./intake.js";
import { median, round, startRedis } from "./support.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rate: { type: "string", default: "1200" },
    seconds: { type: "string", default: "8" },
    rounds: { type: "string", default: "5" },
    env: { type: "string", default: "{}" },
  },
});
const [before, after] = positionals;
if (!before || !after) {
  throw new Error("usage: npm run bench:compare -- <before gateway.mjs> <after gateway.mjs>");
}
const seconds = Number(values.seconds);
const rate = Number(values.rate);
const tool = loadTool();
const env = { API_RATE_LIMIT_PER_MINUTE: "0", ...JSON.parse(values.env) };

const redis = await startRedis();
const flusher = new Redis(redis.url);
const sides = [
  { name: "before", ...(await startGateway(redis.url, env, before)) },
  { name: "after", ...(await startGateway(redis.url, env, after)) },
];
try {
  // Warm-up: JIT, connections.
  await Promise.all(sides.map((side) => postNotifications(tool, side, 3, rate)));
  const ratios: number[] = [];
  for (let index = 0; index < Number(values.rounds); index++) {
    await flusher.flushall();
    const cpuBefore = sides.map((side) => side.gateway.cpuMs());
    const results = await Promise.all(
      sides.map((side) => postNotifications(tool, side, seconds, rate)),
    );
    const cpuUs = sides.map((side, i) => {
      const answered = results[i]?.ok ?? 0;
      return ((side.gateway.cpuMs() - (cpuBefore[i] ?? 0)) * 1000) / Math.max(answered, 1);
    });
    const [beforeUs = 0, afterUs = 0] = cpuUs;
    ratios.push(afterUs / beforeUs);
    console.log(
      `round ${index + 1}: before ${round(beforeUs, 0)} µs, after ${round(afterUs, 0)} µs a request, after ÷ before ${round(afterUs / beforeUs, 3)}; non-2xx ${results.map((result) => result.non2xx).join(" / ")}`,
    );
  }
  console.log(`median after ÷ before, CPU a request: ${round(median(ratios), 3)}`);
} finally {
  await Promise.all(sides.map((side) => side.gateway.stop()));
  flusher.disconnect();
  await redis.stop();
}
