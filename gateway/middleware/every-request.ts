import { randomUUID } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import type { Registry } from "prom-client";
import type { Logger } from "../../lib/logger.js";
import { requestTelemetry } from "./request-telemetry.js";

/**
 * What every request gets: its id (`requestId`, and the `X-Request-Id` response header) and, once
 * answered, its log line and Prometheus series (request-telemetry.ts). The header is set after
 * the handler, so error answers, 404s and responses a handler built itself carry it too.
 *
 * Always a fresh id: a client's X-Request-Id could make its requests pass for others' in the logs.
 */
export function everyRequest(options: {
  logger: Logger;
  registry: Registry;
}): MiddlewareHandler<{ Variables: { requestId: string } }> {
  const recordRequest = requestTelemetry(options);
  return async (c, next) => {
    const started = performance.now();
    const id = randomUUID();
    c.set("requestId", id);
    try {
      await next();
    } finally {
      recordRequest(c, id, started);
    }
    c.header("X-Request-Id", id);
  };
}
