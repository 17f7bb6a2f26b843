/**
 * A memo for values keyed by what a producer sends (its locale tag, its time zone): at most
 * `limit` entries, emptied when full, so a stream of distinct tags cannot grow memory.
 */
export function boundedCache<V>(limit: number): (key: string, make: () => V) => V {
  const entries = new Map<string, V>();
  return (key, make) => {
    let value = entries.get(key);
    if (value === undefined) {
      if (entries.size >= limit) entries.clear();
      value = make();
      entries.set(key, value);
    }
    return value;
  };
}
