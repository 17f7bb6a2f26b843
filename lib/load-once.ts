/**
 * What only some requests need (an SDK, a page, the dashboard), loaded by the first of them
 * instead of at every start: `load` runs on the first call and every caller until it settles
 * shares its promise. A failed load is forgotten, so a later call tries again instead of failing
 * for the process's life.
 */
export function loadOnce<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () => {
    loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
    return loading;
  };
}
