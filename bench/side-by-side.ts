import { Redis } from "ioredis";
import { type LoadTool, postNotifications, startGateway } from "./intake.js";
import { round } from "./support.js";

/** A server to load: its bundle (any that answers /readyz and POST /notifications) and variables. */
export interface Side {
  bundle: string;
  env?: Record<string, string>;
}

/** One round: each side's CPU a 2xx request (µs) and after ÷ before. */
export interface SideBySideRound {
  beforeUs: number;
  afterUs: number;
  ratio: number;
  non2xx: [number, number];
}

/**
 * Two servers under the same fixed-rate load at the same time on one Redis (flushed between
 * rounds), each with its own load as the intake bench sends it, `rate` requests/s each: below
 * what one server takes while the other runs. Measured at the same time, both sides share this
 * machine's speed drift, which moves a full run's figures by tens of per cent: rounds agree
 * within about 2 %. CPU is the server's user + system time (/proc) per 2xx answer.
 */
export async function measureSideBySide(options: {
  redisUrl: string;
  tool: LoadTool;
  before: Side;
  after: Side;
  rate: number;
  seconds: number;
  rounds: number;
  onRound?: (round: SideBySideRound, index: number) => void;
}): Promise<SideBySideRound[]> {
  const flusher = new Redis(options.redisUrl);
  const sides = await Promise.all(
    [options.before, options.after].map((side) =>
      startGateway(options.redisUrl, side.env ?? {}, side.bundle),
    ),
  );
  try {
    // Warm-up: JIT, connections.
    await Promise.all(sides.map((side) => postNotifications(options.tool, side, 3, options.rate)));
    const rounds: SideBySideRound[] = [];
    for (let index = 0; index < options.rounds; index++) {
      await flusher.flushall();
      const cpuBefore = sides.map((side) => side.gateway.cpuMs());
      const results = await Promise.all(
        sides.map((side) => postNotifications(options.tool, side, options.seconds, options.rate)),
      );
      const [beforeUs = 0, afterUs = 0] = sides.map((side, i) => {
        const answered = results[i]?.ok ?? 0;
        return ((side.gateway.cpuMs() - (cpuBefore[i] ?? 0)) * 1000) / Math.max(answered, 1);
      });
      const result: SideBySideRound = {
        beforeUs: round(beforeUs, 0),
        afterUs: round(afterUs, 0),
        ratio: round(afterUs / beforeUs, 3),
        non2xx: [results[0]?.non2xx ?? 0, results[1]?.non2xx ?? 0],
      };
      options.onRound?.(result, index);
      rounds.push(result);
    }
    return rounds;
  } finally {
    await Promise.all(sides.map((side) => side.gateway.stop()));
    flusher.disconnect();
  }
}
