import { Redis } from "ioredis";

/**
 * Counts the commands clients send to a Redis, with MONITOR: each EVALSHA counts once and the
 * commands a Lua script runs inside Redis are not counted, as Upstash bills. Commands sent by
 * the monitor's own connection are left out.
 */
export async function startCommandCounter(url: string) {
  const client = new Redis(url);
  const monitor = await client.monitor();
  const byCommand: Record<string, number> = {};
  let total = 0;
  monitor.on("monitor", (_time: string, args: string[], source: string) => {
    // Script-internal commands come from "lua"; everything else came over a client connection.
    if (source === "lua" || source.endsWith(" lua")) return;
    const name = String(args[0]).toLowerCase();
    byCommand[name] = (byCommand[name] ?? 0) + 1;
    total += 1;
  });
  return {
    get total() {
      return total;
    },
    byCommand,
    /** Starts counting from zero again. */
    reset() {
      total = 0;
      for (const key of Object.keys(byCommand)) delete byCommand[key];
    },
    stop() {
      monitor.disconnect();
      client.disconnect();
    },
  };
}
