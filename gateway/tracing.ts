import { httpInstrumentationMiddleware } from "@hono/otel";
import type { MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import { activeTraceparent } from "../lib/tracing.js";

/**
 * One HTTP server span per request (@hono/otel), continuing the caller's trace when it sends a
 * W3C `traceparent`; the response's own `traceparent` header names that span, so a caller can
 * find the trace. server.ts imports this module only while tracing is on.
 */
export function requestTracing(): MiddlewareHandler[] {
  return [
    httpInstrumentationMiddleware({
      serviceName: "notifications-gateway",
      // In-flight request counts are Prometheus' job here (metrics.ts).
      captureActiveRequests: false,
    }),
    createMiddleware(async (c, next) => {
      await next();
      const traceparent = activeTraceparent();
      if (traceparent) c.header("traceparent", traceparent);
    }),
  ];
}
