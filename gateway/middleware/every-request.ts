import { randomUUID } from "node:crypto";
import type { HttpBindings } from "@hono/node-server";
import type { MiddlewareHandler } from "hono";
import type { Registry } from "prom-client";
import type { Logger } from "../../lib/logger.js";
import { requestTelemetry } from "./request-telemetry.js";
import { setOnNodeResponse, setOnResponse } from "./response-headers.js";

/**
 * What every request gets, in one middleware: its id (`requestId`, and the `X-Request-Id`
 * response header), the security headers (response-headers.ts), and once answered its log line
 * and Prometheus series (request-telemetry.ts). One layer instead of two: each middleware layer
 * costs hono's dispatch, a promise and a closure per request, measurable on the hottest route.
 *
 * Always a fresh id: a client's X-Request-Id could make its requests pass for others' in the logs.
 */
export function everyRequest(options: { logger: Logger; registry: Registry }): MiddlewareHandler<{
  Bindings: Partial<HttpBindings>;
  Variables: { requestId: string };
}> {
  const recordRequest = requestTelemetry(options);
  return async (c, next) => {
    const started = performance.now();
    const id = randomUUID();
    c.set("requestId", id);
    const outgoing = c.env?.outgoing;
    if (outgoing) setOnNodeResponse(outgoing, id);
    try {
      await next();
    } finally {
      recordRequest(c, id, started);
      if (!outgoing) setOnResponse(c, id);
    }
  };
}
