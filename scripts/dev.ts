/**
 * `npm run dev`: the gateway and the worker for a newcomer, with nothing configured.
 * - Reads `.env` when there is one.
 * - REDIS_URL unset: starts a private redis-server (data in .dev/redis), stopped on exit.
 * - API_KEYS unset: generates a development key (kept in .dev/api-key) and prints it.
 * - No provider credentials: the worker prints messages and keeps them in .dev/outbox.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  hasRedisServer,
  REDIS_INSTALL_HINT,
  type RedisServer,
  startRedisServer,
} from "./redis-server.js";

const dataDir = resolve(process.env.DEV_DATA_DIR ?? ".dev");
mkdirSync(dataDir, { recursive: true });
if (existsSync(".env")) process.loadEnvFile(".env");

const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: process.env.NODE_ENV ?? "development" };
env.DEV_OUTBOX_DIR ??= join(dataDir, "outbox");

let redis: RedisServer | undefined;
if (!env.REDIS_URL) {
  if (!hasRedisServer()) {
    console.error(REDIS_INSTALL_HINT);
    process.exit(1);
  }
  // AOF on, so queued jobs survive a restart of `npm run dev`.
  redis = await startRedisServer({
    dir: join(dataDir, "redis"),
    extraArgs: ["--appendonly", "yes"],
  });
  env.REDIS_URL = redis.url;
  console.log(`[dev] private redis-server on ${redis.url} (data in ${join(dataDir, "redis")})`);
}

if (!env.API_KEYS) {
  const keyFile = join(dataDir, "api-key");
  const key = existsSync(keyFile)
    ? readFileSync(keyFile, "utf8").trim()
    : `dev_${randomBytes(16).toString("hex")}`;
  writeFileSync(keyFile, `${key}\n`);
  env.API_KEYS = key;
  console.log(`[dev] API_KEYS is unset; development API key: ${key}`);
}

const port = env.PORT ?? "3000";
const firstKey = env.API_KEYS.split(",")[0]?.trim();
console.log(`[dev] try it:
curl -i -X POST http://localhost:${port}/notifications \\
  -H "Authorization: Bearer ${firstKey}" -H "Content-Type: application/json" \\
  -d '{"to":"user@example.com","phone":"+12025550143","asset":"BTC","amount":1000,"quantity":0.02,"order":"order-id-123"}'
`);

const children: ChildProcess[] = ["gateway/server.ts", "worker/index.ts"].map((entry) =>
  spawn(process.execPath, ["--import", "tsx", entry], { env, stdio: "inherit" }),
);

let stopping = false;
async function stopAll(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            child.once("exit", () => done());
            child.kill("SIGTERM");
          }),
      ),
    );
    await redis?.stop();
  }
  process.exit(code);
}

for (const child of children) {
  child.once("exit", (code) => {
    if (!stopping) void stopAll(code ?? 1);
  });
}
process.on("SIGINT", () => void stopAll(0));
process.on("SIGTERM", () => void stopAll(0));
