import { connect } from "node:net";
import { Redis } from "ioredis";

/**
 * Counts the commands clients send to a Redis, with MONITOR: each EVALSHA counts once and the
 * commands a Lua script runs inside Redis are not counted, as Upstash bills. MONITOR is read
 * from a plain socket: ioredis's monitor mode fails ("Command queue state error") when a
 * monitored line arrives in the same packet as the answer to MONITOR.
 */
export async function startCommandCounter(url: string) {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port) });
  let byCommand: Record<string, number> = {};
  let partial = "";
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.once("connect", () => socket.write("MONITOR\r\n"));
    socket.on("data", (chunk: Buffer) => {
      const lines = (partial + chunk.toString("utf8")).split("\r\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        if (line === "+OK") resolve();
        // `+<time> [<db> <source>] "<command>" "<arg>" …`: source `lua` is a script's own call.
        const match = /^\+\d+\.\d+ \[\d+ ([^\]]+)\] "([^"]*)"/.exec(line);
        if (!match || match[1] === "lua") continue;
        const name = (match[2] ?? "").toLowerCase();
        byCommand[name] = (byCommand[name] ?? 0) + 1;
      }
    });
  });
  socket.on("error", () => {});
  return {
    /** The commands counted since the start or the last take, by name; counting starts over. */
    take() {
      const taken = byCommand;
      byCommand = {};
      return { total: Object.values(taken).reduce((sum, n) => sum + n, 0), byCommand: taken };
    },
    stop: () => socket.destroy(),
  };
}

/** Which kind of key a key is, by what keeps it (docs/capacity.md's Redis memory table). */
function kindOf(key: string): "job" | "deliveryRecord" | "batch" | "other" {
  if (/^[^:]+:[^:]+:[0-9a-f-]{36}$/.test(key)) return "job";
  if (key.includes(":delivery:") || key.includes(":provider-id:")) return "deliveryRecord";
  if (key.includes(":batch:") || key.includes(":batch-member:")) return "batch";
  return "other";
}

/**
 * Bytes per notification in a Redis no one else uses: `MEMORY USAGE` (SAMPLES 0, every element
 * counted) of every key, divided by `notifications`, in all and by kind of key.
 */
export async function redisBytesPer(url: string, notifications: number) {
  const redis = new Redis(url);
  const bytes = { total: 0, job: 0, deliveryRecord: 0, batch: 0, other: 0 };
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "COUNT", 1000);
      cursor = next;
      const pipeline = redis.pipeline();
      for (const key of keys) pipeline.memory("USAGE", key, "SAMPLES", 0);
      const answers = (await pipeline.exec()) ?? [];
      keys.forEach((key, index) => {
        const used = Number(answers[index]?.[1] ?? 0);
        bytes[kindOf(key)] += used;
        bytes.total += used;
      });
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
  return Object.fromEntries(
    Object.entries(bytes).map(([kind, n]) => [kind, Math.round(n / notifications)]),
  ) as typeof bytes;
}
