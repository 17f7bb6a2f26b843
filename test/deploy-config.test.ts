import { existsSync, readFileSync } from "node:fs";
import { createRailwayContext, project } from "railway/iac";
import { parse as parseToml } from "smol-toml";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import railwayProgram from "../deploy/railway/railway.js";
import { gatewayEnvSchema } from "../gateway/env.js";
import { BUNDLES, bundledSourceFolders } from "../scripts/bundle.js";
import { workerEnvSchema } from "../worker/env.js";
import { createTestGateway } from "./gateway-fixture.js";

/* Config files are parsed loosely: these tests check the fields the code depends on. */
// biome-ignore lint/suspicious/noExplicitAny: parsed configuration documents
type Doc = any;

const fly: Doc = parseToml(readFileSync("fly.toml", "utf8"));
const autoscaler: Doc = parseToml(readFileSync("deploy/fly-autoscaler.toml", "utf8"));
const railwayGateway: Doc = JSON.parse(readFileSync("railway.json", "utf8"));
const railwayWorker: Doc = JSON.parse(readFileSync("railway.worker.json", "utf8"));
const compose: Doc = parseYaml(readFileSync("docker-compose.yml", "utf8"));
const dockerfile = readFileSync("Dockerfile", "utf8");
const packageJson: Doc = JSON.parse(readFileSync("package.json", "utf8"));

const gatewayDefaults = gatewayEnvSchema.parse({
  REDIS_URL: "redis://x",
  API_KEYS: "k".repeat(16),
});
const workerDefaults = workerEnvSchema.parse({ REDIS_URL: "redis://x" });

/** The production start commands: package.json's, which every deploy file must repeat. */
const ENTRY = {
  gateway: packageJson.scripts["start:gateway"],
  worker: packageJson.scripts["start:worker"],
};

/** `node <options> dist/gateway.mjs` → the source file the build bundles into it. */
function sourceOf(command: string): string {
  const bundle = /^node (?:--[\w-]+=\S+ )*(dist\/.+\.mjs)$/.exec(command)?.[1];
  const source = BUNDLES[bundle as keyof typeof BUNDLES];
  if (!source) throw new Error(`not a bundle "npm run build" makes: ${command}`);
  return source;
}

async function gatewayServes(path: string): Promise<boolean> {
  const gateway = await createTestGateway();
  try {
    return (await gateway.app.request(path)).status === 200;
  } finally {
    await gateway.cleanup();
  }
}

describe("fly.toml", () => {
  it("runs the gateway and the worker from built entry points that exist in the source", () => {
    expect(fly.processes).toEqual(ENTRY);
    for (const command of Object.values(fly.processes) as string[]) {
      expect(existsSync(sourceOf(command))).toBe(true);
    }
  });

  it("serves HTTP from the gateway group only, on the gateway's default PORT, scaling to zero", () => {
    expect(fly.http_service.processes).toEqual(["gateway"]);
    expect(fly.http_service.internal_port).toBe(gatewayDefaults.PORT);
    expect(Number(fly.env.PORT)).toBe(gatewayDefaults.PORT);
    expect(fly.http_service.auto_stop_machines).toBe("stop");
    expect(fly.http_service.auto_start_machines).toBe(true);
    expect(fly.http_service.min_machines_running).toBe(0);
  });

  it("health-checks paths the gateway serves, and the worker on its health port", async () => {
    for (const check of fly.http_service.checks) expect(await gatewayServes(check.path)).toBe(true);
    const worker = fly.checks.worker_health;
    expect(worker.processes).toEqual(["worker"]);
    expect(worker.port).toBe(workerDefaults.WORKER_HEALTH_PORT);
    expect(worker.path).toBe("/healthz");
  });

  it("gives the worker more time to stop than its shutdown grace", () => {
    expect(fly.kill_signal).toBe("SIGTERM");
    expect(fly.kill_timeout * 1000).toBeGreaterThan(workerDefaults.WORKER_SHUTDOWN_TIMEOUT_MS);
  });

  it("exports both groups' /metrics to Fly's Prometheus and sizes each group", async () => {
    const byGroup = Object.fromEntries(fly.metrics.map((m: Doc) => [m.processes[0], m]));
    // The gateway's metrics port, not its public one: http_service exposes only PORT.
    expect(byGroup.gateway).toEqual({
      port: gatewayDefaults.METRICS_PORT,
      path: "/metrics",
      processes: ["gateway"],
    });
    expect(fly.http_service.internal_port).toBe(gatewayDefaults.PORT);
    expect(byGroup.worker).toEqual({
      port: workerDefaults.WORKER_HEALTH_PORT,
      path: "/metrics",
      processes: ["worker"],
    });
    expect(await gatewayServes("/metrics")).toBe(false);
    expect(fly.vm.map((vm: Doc) => vm.processes[0]).sort()).toEqual(["gateway", "worker"]);
  });
});

describe("deploy/fly-autoscaler.toml", () => {
  it("scales the worker group of this app on the waiting-jobs metric the service exports", async () => {
    expect(autoscaler.env.FAS_APP_NAME).toBe(fly.app);
    expect(Object.keys(fly.processes)).toContain(autoscaler.env.FAS_PROCESS_GROUP);
    expect(autoscaler.env.FAS_PROCESS_GROUP).toBe("worker");
    const query: string = autoscaler.env.FAS_PROMETHEUS_QUERY;
    expect(query).toContain("bullmq_job_count{");
    expect(query).toContain("state='waiting'");
    expect(query).toContain("queue='notifications'");
    expect(autoscaler.env.FAS_CREATED_MACHINE_COUNT).toContain(
      autoscaler.env.FAS_PROMETHEUS_METRIC_NAME,
    );

    const gateway = await createTestGateway();
    try {
      const text = await (await gateway.metricsApp.request("/metrics")).text();
      expect(text).toContain('bullmq_job_count{queue="notifications",state="waiting"}');
    } finally {
      await gateway.cleanup();
    }
  });
});

describe("railway.json and railway.worker.json", () => {
  it("start existing entry points with health checks the processes serve", async () => {
    expect(railwayGateway.$schema).toBe("https://railway.com/railway.schema.json");
    expect(railwayGateway.deploy.startCommand).toBe(ENTRY.gateway);
    expect(railwayWorker.deploy.startCommand).toBe(ENTRY.worker);
    expect(existsSync(sourceOf(railwayGateway.deploy.startCommand))).toBe(true);
    expect(existsSync(sourceOf(railwayWorker.deploy.startCommand))).toBe(true);
    expect(await gatewayServes(railwayGateway.deploy.healthcheckPath)).toBe(true);
    expect(railwayWorker.deploy.healthcheckPath).toBe("/healthz");
  });

  it("sleeps the gateway when idle, keeps workers up and drains them longer than their grace", () => {
    expect(railwayGateway.deploy.sleepApplication).toBe(true);
    expect(railwayWorker.deploy.sleepApplication).toBe(false);
    expect(railwayWorker.deploy.drainingSeconds * 1000).toBeGreaterThan(
      workerDefaults.WORKER_SHUTDOWN_TIMEOUT_MS,
    );
  });

  it("match the infrastructure-as-code form in deploy/railway/railway.ts", async () => {
    const definition = await railwayProgram(createRailwayContext(), project);
    const services = Object.fromEntries(
      (definition.resources ?? []).map((resource: Doc) => [resource.name, resource]),
    );
    for (const [name, json] of [
      ["gateway", railwayGateway],
      ["worker", railwayWorker],
    ] as const) {
      const deploy = services[name].deploy;
      for (const key of Object.keys(json.deploy))
        expect(deploy[key], `${name} ${key}`).toEqual(json.deploy[key]);
      expect(services[name].build.dockerfilePath).toBe(json.build.dockerfilePath);
    }
    expect(services.redis.engine).toBe("redis");
  });
});

describe("Dockerfile and docker-compose.yml", () => {
  it("copies every source folder the bundles are built from, and starts the gateway by default", async () => {
    const folders = await bundledSourceFolders();
    expect(folders).toEqual(expect.arrayContaining(["contract", "gateway", "lib", "worker"]));
    for (const folder of folders) {
      expect(dockerfile).toContain(`COPY ${folder} ./${folder}`);
    }
    expect(dockerfile).toContain("COPY scripts/bundle.ts ./scripts/bundle.ts");
    expect(dockerfile).toContain(
      `CMD ${JSON.stringify(ENTRY.gateway.split(" "))}`.replaceAll(",", ", "),
    );
    // The heap caps live in the start command, not in an ENV only the image has.
    expect(dockerfile).not.toContain("NODE_OPTIONS");
    expect(dockerfile).toContain("npm ci --omit=dev");
    expect(dockerfile).toMatch(/^USER node$/m);
  });

  it("runs Redis 7 without eviction and with AOF, and both processes under the documented names", () => {
    const { redis, gateway, worker } = compose.services;
    expect(redis.image).toMatch(/^redis:7/);
    expect(redis.command).toEqual(
      expect.arrayContaining(["--appendonly", "yes", "--maxmemory-policy", "noeviction"]),
    );
    expect(gateway.container_name).toBe("exchange-notification-gateway");
    expect(worker.container_name).toBe("exchange-notification-worker");
    expect(gateway.command.join(" ")).toBe(ENTRY.gateway);
    expect(worker.command.join(" ")).toBe(ENTRY.worker);
    expect(gateway.ports).toEqual([`${gatewayDefaults.PORT}:${gatewayDefaults.PORT}`]);
    expect(worker.healthcheck.test.join(" ")).toContain(
      `:${workerDefaults.WORKER_HEALTH_PORT}/healthz`,
    );
    expect(Number.parseInt(worker.stop_grace_period, 10) * 1000).toBeGreaterThan(
      workerDefaults.WORKER_SHUTDOWN_TIMEOUT_MS,
    );
  });
});

describe("docs/configuration.md", () => {
  const documented = new Set(
    [...readFileSync("docs/configuration.md", "utf8").matchAll(/^\| `([A-Z][A-Z0-9_]*)`/gm)].map(
      ([, name]) => name ?? "",
    ),
  );
  const read = new Set([
    ...Object.keys(gatewayEnvSchema.shape),
    ...Object.keys(workerEnvSchema.shape),
  ]);

  it("has a row for every variable the code reads, and none for another", () => {
    expect([...read].filter((name) => !documented.has(name))).toEqual([]);
    expect([...documented].filter((name) => !read.has(name))).toEqual([]);
  });
});

describe(".env.example", () => {
  const documented = new Set(
    readFileSync(".env.example", "utf8")
      .split("\n")
      .map((line) => /^([A-Z][A-Z0-9_]*)=/.exec(line)?.[1])
      .filter((name): name is string => name !== undefined),
  );
  const read = new Set([
    ...Object.keys(gatewayEnvSchema.shape),
    ...Object.keys(workerEnvSchema.shape),
  ]);

  it("documents every variable the code reads", () => {
    expect([...read].filter((name) => !documented.has(name))).toEqual([]);
  });

  it("documents no variable the code does not read", () => {
    expect([...documented].filter((name) => !read.has(name))).toEqual([]);
  });
});
