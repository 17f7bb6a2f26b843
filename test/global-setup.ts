import type { TestProject } from "vitest/node";
import { startRedisServer } from "../scripts/redis-server.js";
import { watchLeftovers } from "./support/leftovers.js";

declare module "vitest" {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

/**
 * One private redis-server for the whole suite, unless REDIS_URL points at one already. The run
 * gets a temporary folder of its own (TMPDIR) and a marker in its environment; once it ends, a
 * process of the run still running or a file left in that folder fails it, named.
 */
export default async function setup(project: TestProject) {
  const leftovers = watchLeftovers();
  // Before any test file's process starts: each inherits them.
  Object.assign(process.env, leftovers.env);
  let stopRedis = async () => {};
  if (process.env.REDIS_URL) {
    project.provide("redisUrl", process.env.REDIS_URL);
  } else {
    const redis = await startRedisServer();
    project.provide("redisUrl", redis.url);
    stopRedis = () => redis.stop();
  }
  return async () => {
    await stopRedis();
    const problems = await leftovers.finish();
    if (problems.length > 0) {
      // Vitest reports a teardown's error without failing the run: the exit code does.
      process.exitCode = 1;
      throw new Error(
        `the test run left these behind (now ended and removed):\n  ${problems.join("\n  ")}`,
      );
    }
  };
}
