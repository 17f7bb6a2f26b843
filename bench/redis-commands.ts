import { connect } from "node:net";

/**
 * Counts the commands clients send to a Redis, with MONITOR: each EVALSHA counts once and the
 * commands a Lua script runs inside Redis are not counted, as Upstash bills. Commands sent by
 * the monitor's own connection are left out.
 *
 * MONITOR is read from a plain socket: ioredis's monitor mode fails ("Command queue state
 * error") when a monitored line arrives in the same packet as the answer to MONITOR.
 */
export async function startCommandCounter(url: string) {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port) });
  const byCommand: Record<string, number> = {};
  let total = 0;
  let partial = "";
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.once("connect", () => {
      socket.write("MONITOR\r\n");
      socket.on("data", (chunk: Buffer) => {
        const lines = (partial + chunk.toString("utf8")).split("\r\n");
        partial = lines.pop() ?? "";
        for (const line of lines) {
          if (line === "+OK") {
            resolve();
            continue;
          }
          count(line);
        }
      });
    });
  });
  socket.on("error", () => {});

  /** `+<time> [<db> <source>] "<command>" "<arg>" …`: source `lua` is a script's own call. */
  function count(line: string): void {
    const match = /^\+\d+\.\d+ \[\d+ ([^\]]+)\] "([^"]*)"/.exec(line);
    if (!match || match[1] === "lua") return;
    const name = (match[2] ?? "").toLowerCase();
    byCommand[name] = (byCommand[name] ?? 0) + 1;
    total += 1;
  }

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
      socket.destroy();
    },
  };
}
