/**
 * Railway's infrastructure-as-code form of railway.json + railway.worker.json, for the
 * `railway config` commands (Railway reads `.railway/railway.ts`; see the README, "Deploy to
 * Railway"). Type-checked against the `railway` package in CI, and its services are compared
 * with the JSON files by test/deploy-config.test.ts, so the two forms cannot drift.
 */
import { defineRailway, preserve, redis, service } from "railway/iac";

export default defineRailway((_ctx, project) => {
  const queue = redis("redis");
  const shared = { NODE_ENV: "production", REDIS_URL: queue.env.REDIS_URL };

  const gateway = service("gateway", {
    build: { builder: "DOCKERFILE", dockerfilePath: "Dockerfile" },
    deploy: {
      startCommand: "node --max-old-space-size=96 --max-semi-space-size=8 dist/gateway.mjs",
      healthcheckPath: "/healthz",
      healthcheckTimeout: 30,
      // Serverless: the gateway sleeps when idle and wakes on the next request.
      sleepApplication: true,
      restartPolicyType: "ON_FAILURE",
      restartPolicyMaxRetries: 10,
      drainingSeconds: 15,
    },
    env: { ...shared, API_KEYS: preserve() },
  });

  const worker = service("worker", {
    build: { builder: "DOCKERFILE", dockerfilePath: "Dockerfile" },
    deploy: {
      startCommand: "node --max-old-space-size=96 --max-semi-space-size=8 dist/worker.mjs",
      // Railway probes the service's PORT: the worker serves /healthz there.
      healthcheckPath: "/healthz",
      healthcheckTimeout: 30,
      sleepApplication: false,
      restartPolicyType: "ALWAYS",
      // Above WORKER_SHUTDOWN_TIMEOUT_MS (30 s): in-flight sends finish before SIGKILL.
      drainingSeconds: 45,
    },
    replicas: 1,
    env: {
      ...shared,
      PORT: "9091",
      WORKER_HEALTH_PORT: "9091",
      RESEND_API_KEY: preserve(),
      EMAIL_FROM: preserve(),
      TWILIO_ACCOUNT_SID: preserve(),
      TWILIO_AUTH_TOKEN: preserve(),
      TWILIO_FROM: preserve(),
    },
  });

  return project("exchange-notifications", { resources: [queue, gateway, worker] });
});
