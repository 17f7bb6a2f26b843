import closeWithGrace from "close-with-grace";
import type { Logger } from "./logger.js";

/** Time the last clean-up (closing connections) gets after the drain, at most. */
export const CLOSE_BUDGET_MS = 2000;

/**
 * How long the drain gets once nothing is in flight. Stopping a BullMQ worker waits for Redis
 * (its fetch loop, its connections), which may never answer: with no work to lose, waiting longer
 * than this protects nothing. A job fetched meanwhile is in flight, and is waited for.
 */
export const IDLE_DRAIN_MS = 1000;

/** How often the drain looks at what is in flight. */
const IN_FLIGHT_POLL_MS = 50;

/**
 * How a drain ended: finished; stopped waiting with nothing in flight (`idle`); or cut short by
 * the grace period with work still in flight (`abandoned`).
 */
type DrainOutcome = "drained" | "idle" | "abandoned";

/**
 * The shutdown both processes share, on close-with-grace (signals, uncaught errors, a hard
 * deadline). On SIGTERM or SIGINT: `drain` (stop taking work, finish what is in flight) gets
 * `graceMs`, or IDLE_DRAIN_MS once `inFlight` (when given) has counted nothing that long; then
 * `close` (connections, servers) gets CLOSE_BUDGET_MS. `close` learns whether the drain finished:
 * when it did not, Redis may be what hangs. The process exits 0 unless work in flight was
 * abandoned: then 1, `graceMs` + CLOSE_BUDGET_MS after the signal at most, and abandoned jobs'
 * locks lapse for another worker to take them over. An uncaught exception or unhandled
 * rejection is a crash: it is logged, connections are closed, and the process exits 1.
 */
export function handleShutdown(options: {
  logger: Logger;
  graceMs: number;
  drain: () => Promise<void>;
  /** Work under way that a shutdown would cut short (jobs being processed); unset: unknown. */
  inFlight?: () => number;
  close: (drained: boolean) => Promise<void>;
}): void {
  const { logger, graceMs } = options;
  closeWithGrace(
    {
      delay: graceMs + CLOSE_BUDGET_MS,
      logger: false,
      onTimeout: () => logger.error({ graceMs }, "shutdown did not finish in time: exiting"),
      onSecondSignal: (signal) => logger.error({ signal }, "second signal: exiting now"),
      onSecondError: (err) => logger.fatal({ err }, "second error during shutdown: exiting"),
    },
    async ({ signal, err }) => {
      if (err) {
        logger.fatal({ err }, "crashed: uncaught error");
        await withinBudget(options.close(false));
        return;
      }
      if (!signal) return; // a normal exit: nothing left to drain
      logger.info({ signal, graceMs }, "shutting down: finishing in-flight work");
      const outcome = await drainWithin(options.drain, graceMs, options.inFlight);
      if (outcome === "abandoned") {
        logger.error(
          { graceMs, inFlight: options.inFlight?.() },
          "in-flight work did not finish in time: abandoned",
        );
      } else if (outcome === "idle") {
        logger.warn(
          { waitedMs: IDLE_DRAIN_MS },
          "nothing in flight, but stopping did not finish (Redis not answering?): not waiting",
        );
      }
      if (!(await withinBudget(options.close(outcome === "drained")))) {
        logger.warn({ budgetMs: CLOSE_BUDGET_MS }, "closing connections did not finish: exiting");
      }
      logger.info({ drained: outcome !== "abandoned" }, "stopped");
      // close-with-grace exits 1 on a thrown error: abandoned work is a failed shutdown.
      if (outcome === "abandoned") throw new Error("in-flight work abandoned");
    },
  );
}

/** Runs the drain until it finishes, the grace period ends, or nothing is in flight long enough. */
function drainWithin(
  drain: () => Promise<void>,
  graceMs: number,
  inFlight: (() => number) | undefined,
): Promise<DrainOutcome> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    let idleSince: number | undefined;
    const finish = (outcome: DrainOutcome) => {
      clearInterval(watch);
      resolve(outcome);
    };
    const watch = setInterval(() => {
      const now = Date.now();
      const running = inFlight?.();
      if (running === undefined || running > 0) idleSince = undefined;
      else idleSince ??= now;
      if (idleSince !== undefined && now - idleSince >= IDLE_DRAIN_MS) finish("idle");
      else if (now - started >= graceMs) finish(running === 0 ? "idle" : "abandoned");
    }, IN_FLIGHT_POLL_MS);
    drain().then(
      () => finish("drained"),
      (error: unknown) => {
        clearInterval(watch);
        reject(error);
      },
    );
  });
}

/** True when `closing` settled within CLOSE_BUDGET_MS; its failure counts as settled. */
async function withinBudget(closing: Promise<void>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const budget = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), CLOSE_BUDGET_MS);
  });
  const settled = closing.then(
    () => true,
    () => true,
  );
  try {
    return await Promise.race([settled, budget]);
  } finally {
    clearTimeout(timer);
  }
}
