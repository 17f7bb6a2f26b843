import closeWithGrace from "close-with-grace";
import type { Logger } from "./logger.js";

/** Time the last clean-up (closing connections) gets after the grace period, at most. */
export const CLOSE_BUDGET_MS = 2000;

/**
 * The shutdown both processes share, on close-with-grace (signals, uncaught errors, a hard
 * deadline). On SIGTERM or SIGINT: `drain` (stop taking work, finish what is in flight) gets
 * `graceMs`; then `close` (connections, servers) runs, and the process exits 0 only when the
 * drain finished. Whatever hangs (a provider call, an unreachable Redis), the process is gone
 * `graceMs` + CLOSE_BUDGET_MS after the signal, with exit 1; abandoned jobs' locks lapse and
 * another worker takes them over. An uncaught exception or unhandled rejection is a crash: it is
 * logged, connections are closed, and the process exits 1.
 */
export function handleShutdown(options: {
  logger: Logger;
  graceMs: number;
  drain: () => Promise<void>;
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
        await options.close(false).catch(() => {});
        return;
      }
      if (!signal) return; // a normal exit: nothing left to drain
      logger.info({ signal, graceMs }, "shutting down: finishing in-flight work");
      const drained = await Promise.race([
        options.drain().then(() => true),
        new Promise<false>((resolve) => setTimeout(() => resolve(false), graceMs).unref()),
      ]);
      if (!drained) logger.error({ graceMs }, "in-flight work did not finish in time: abandoned");
      await options.close(drained);
      logger.info({ drained }, "stopped");
      // close-with-grace exits 1 on a thrown error: abandoned work is a failed shutdown.
      if (!drained) throw new Error("in-flight work abandoned");
    },
  );
}
