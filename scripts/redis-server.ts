/**
 * Starts a private redis-server on a free loopback port: for `npm run dev` when REDIS_URL is
 * unset, for the test suite and for the benchmarks. Never used in production.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createServer } from "node:net";

/** A running private redis-server. */
export interface RedisServer {
  url: string;
  port: number;
  process: ChildProcess;
  /** Sends SIGTERM and waits for the process to exit. */
  stop(): Promise<void>;
}

/** How to get redis-server, printed when it is missing. */
export const REDIS_INSTALL_HINT = [
  "redis-server was not found on PATH. Install it, or set REDIS_URL to a Redis you already run:",
  "  Debian/Ubuntu: sudo apt-get install -y redis-server",
  "  macOS:         brew install redis",
  "  Docker:        docker run -d -p 6379:6379 redis:7-alpine   (then REDIS_URL=redis://127.0.0.1:6379)",
].join("\n");

/** Whether `redis-server` can be run here. */
export function hasRedisServer(): boolean {
  return spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === "object") resolve(address.port);
        else reject(new Error("could not read the port of a probe server"));
      });
    });
  });
}

/**
 * Starts redis-server with no persistence unless `dir` or `extraArgs` ask for it, and resolves
 * once it accepts connections. `port` reuses a port, for restarting a stopped server.
 */
export async function startRedisServer(
  options: {
    dir?: string;
    port?: number;
    extraArgs?: string[];
    /** Serve TLS only (rediss://) with this certificate, as managed Redis services do. */
    tls?: { certFile: string; keyFile: string; caFile: string };
  } = {},
): Promise<RedisServer> {
  if (!hasRedisServer()) throw new Error(REDIS_INSTALL_HINT);
  const port = options.port ?? (await freePort());
  const listen = options.tls
    ? ["--port", "0", "--tls-port", String(port), "--tls-cert-file", options.tls.certFile]
        .concat(["--tls-key-file", options.tls.keyFile, "--tls-ca-cert-file", options.tls.caFile])
        .concat(["--tls-auth-clients", "no"])
    : ["--port", String(port)];
  const args = [...listen, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
  if (options.dir) {
    mkdirSync(options.dir, { recursive: true });
    args.push("--dir", options.dir);
  }
  args.push(...(options.extraArgs ?? []));
  const child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });

  await new Promise<void>((resolve, reject) => {
    let output = "";
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Ready to accept connections")) {
        child.stdout?.off("data", onData);
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.once("exit", (code) =>
      reject(new Error(`redis-server exited with ${code} before it was ready:\n${output}`)),
    );
    child.once("error", reject);
  });
  // Keep draining output so a chatty server never blocks on a full pipe.
  child.stdout?.resume();
  child.stderr?.resume();

  return {
    url: options.tls ? `rediss://localhost:${port}` : `redis://127.0.0.1:${port}`,
    port,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
