import type { Queue } from "bullmq";
import { Gauge, type Registry } from "prom-client";
import type { Logger } from "./logger.js";

/** BullMQ states reported as `bullmq_job_count{state=…}`. */
const STATES = ["waiting", "prioritized", "active", "delayed", "failed", "completed"] as const;

interface QueueSnapshot {
  counts: Record<string, number>;
  oldestWaitingAgeSeconds: number;
}

/**
 * Registers the queue's depth on `registry`, so one query gives what an autoscaler needs:
 * `bullmq_job_count{queue="notifications",state="waiting"}`, plus the age of the oldest waiting
 * job. Both the gateway and the worker export them: the gateway scales to zero, the workers do not.
 *
 * The queue is read at most once per `cacheMs` however many scrapers ask: each read costs Redis
 * commands, which Upstash bills.
 */
/** How long queue counts read for /metrics are reused: each read costs Redis commands. */
export const QUEUE_METRICS_CACHE_MS = 5000;

export function registerQueueGauges(options: {
  registry: Registry;
  queue: Queue;
  cacheMs: number;
  logger: Logger;
}): void {
  const { queue, registry } = options;

  let snapshot: { at: number; value: Promise<QueueSnapshot> } | undefined;
  const readQueue = (): Promise<QueueSnapshot> => {
    const now = Date.now();
    if (!snapshot || now - snapshot.at >= options.cacheMs) {
      snapshot = { at: now, value: takeSnapshot(queue) };
      // A failed read is not cached: the next scrape tries again.
      snapshot.value.catch(() => {
        snapshot = undefined;
      });
    }
    return snapshot.value;
  };

  new Gauge({
    name: "notifications_queue_metrics_up",
    help: "1 when the queue's counts could be read from Redis, 0 when not (the gauges keep old values)",
    registers: [registry],
    async collect() {
      try {
        await readQueue();
        this.set(1);
      } catch (err) {
        this.set(0);
        options.logger.warn(
          { err: (err as Error).message },
          "could not read queue counts for /metrics",
        );
      }
    },
  });
  new Gauge({
    name: "bullmq_job_count",
    help: "Number of jobs in the queue by state",
    labelNames: ["queue", "state"],
    registers: [registry],
    async collect() {
      const value = await readQueue().catch(() => undefined);
      if (!value) return;
      for (const state of STATES) this.set({ queue: queue.name, state }, value.counts[state] ?? 0);
    },
  });
  new Gauge({
    name: "bullmq_oldest_waiting_job_age_seconds",
    help: "Age of the oldest job waiting to be processed (0 when none waits)",
    labelNames: ["queue"],
    registers: [registry],
    async collect() {
      const value = await readQueue().catch(() => undefined);
      if (value) this.set({ queue: queue.name }, value.oldestWaitingAgeSeconds);
    },
  });
}

async function takeSnapshot(queue: Queue): Promise<QueueSnapshot> {
  const [counts, oldest] = await Promise.all([
    queue.getJobCounts(...STATES),
    // The wait list is pushed on the left: its last element (ascending order) is the oldest.
    queue.getJobs(["waiting"], 0, 0, true),
  ]);
  const oldestJob = oldest[0];
  return {
    counts,
    oldestWaitingAgeSeconds: oldestJob ? Math.max(0, (Date.now() - oldestJob.timestamp) / 1000) : 0,
  };
}
