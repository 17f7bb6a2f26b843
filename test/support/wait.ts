/**
 * The harness's one wait: polls `check` until it stops throwing (or rejecting) and returns its
 * value; past `timeout` it throws the last error. A wait for a condition, never a fixed sleep.
 * Plain Node, so the soak and the benchmarks use it outside vitest too; the default timeout
 * leaves room for a busy CI machine.
 */
export async function eventually<T>(
  check: () => T | Promise<T>,
  options: { timeout?: number; interval?: number } = {},
): Promise<T> {
  const timeout = options.timeout ?? 10_000;
  const interval = options.interval ?? 20;
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() + interval > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, interval));
    }
  }
}

/** Waits until `url` answers 200 (a readiness probe), or `stillRunning` says the process died. */
export async function waitForHttpOk(
  url: string,
  options: { timeout?: number; stillRunning?: () => void } = {},
): Promise<void> {
  await eventually(
    async () => {
      options.stillRunning?.();
      const response = await fetch(url);
      await response.body?.cancel();
      if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
    },
    { timeout: options.timeout ?? 20_000, interval: 10 },
  );
}
