import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RedisServer, startRedisServer } from "../scripts/redis-server.js";
import { eventually } from "./fixtures.js";

/**
 * A local three-node Redis Cluster (no replicas): three `redis-server --cluster-enabled yes`
 * joined by `redis-cli --cluster create`. Resolves once the cluster reports `cluster_state:ok`.
 */
export async function startRedisCluster() {
  const dir = mkdtempSync(join(tmpdir(), "notify-cluster-"));
  const nodes: RedisServer[] = [];
  for (let i = 0; i < 3; i++) {
    nodes.push(
      await startRedisServer({
        dir: join(dir, `node-${i}`),
        extraArgs: ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"],
      }),
    );
  }
  const addresses = nodes.map((node) => `127.0.0.1:${node.port}`);
  execFileSync(
    "redis-cli",
    ["--cluster", "create", ...addresses, "--cluster-replicas", "0", "--cluster-yes"],
    {
      stdio: "pipe",
    },
  );
  await eventually(
    () => {
      for (const node of nodes) {
        const info = execFileSync("redis-cli", [
          "-p",
          String(node.port),
          "cluster",
          "info",
        ]).toString();
        if (!info.includes("cluster_state:ok"))
          throw new Error(`node ${node.port} not ready:\n${info}`);
      }
    },
    { timeout: 20_000 },
  );
  return {
    nodes,
    /** A node's URL; clients discover the other nodes from it. */
    url: nodes[0]?.url ?? "",
    async stop() {
      await Promise.all(nodes.map((node) => node.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
