import type { Job } from "bullmq";

/** The worker's state a batcher reads to know whether company can still come. */
export interface WorkerActivity {
  /** Jobs the worker's processor runs now. */
  jobsRunning(): number;
  /** True when the worker's last fetch found no job waiting, and it has fetched none since. */
  queueDrained(): boolean;
}

/**
 * Tracks a BullMQ worker's activity for its batchers: the jobs its processor runs (`run` wraps
 * each), and whether its last fetch found the queue empty (`drained`, on BullMQ's event). BullMQ
 * fetches a cycle's jobs, emits "drained" when a fetch finds none, then starts the jobs it
 * fetched: so only a job fetched after the event undoes it, judged by its processedOn (the time
 * its fetch was sent, this process's clock).
 */
export function createWorkerActivity(): WorkerActivity & {
  drained(now?: number): void;
  run<T>(job: Pick<Job, "processedOn">, process: () => Promise<T>): Promise<T>;
} {
  let jobsRunning = 0;
  let queueDrained = false;
  let drainedAt = Number.POSITIVE_INFINITY;
  return {
    jobsRunning: () => jobsRunning,
    queueDrained: () => queueDrained,
    drained(now = Date.now()) {
      queueDrained = true;
      drainedAt = now;
    },
    async run(job, process) {
      jobsRunning += 1;
      if ((job.processedOn ?? Number.POSITIVE_INFINITY) > drainedAt) queueDrained = false;
      try {
        return await process();
      } finally {
        jobsRunning -= 1;
      }
    },
  };
}
