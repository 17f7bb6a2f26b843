/**
 * Counts the jobs a worker's processor runs now. The shutdown reads it: with nothing in flight
 * there is no work to lose, so it does not wait for a Redis that may never answer.
 */
export function createJobsInFlight() {
  let running = 0;
  return {
    count: () => running,
    /** Runs one job's processing, counted while it runs. */
    async run<T>(process: () => Promise<T>): Promise<T> {
      running += 1;
      try {
        return await process();
      } finally {
        running -= 1;
      }
    },
  };
}

export type JobsInFlight = ReturnType<typeof createJobsInFlight>;
