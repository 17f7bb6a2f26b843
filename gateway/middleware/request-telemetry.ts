import type { Context } from "hono";
import { Counter, Histogram, type Registry } from "prom-client";
import type { Logger } from "../../lib/logger.js";

/** The label names and buckets of @hono/prometheus, whose series dashboards already query. */
const LABELS = ["method", "status", "ok", "route"] as const;
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/**
 * What a finished request leaves behind: one log line (request id, method, matched route,
 * status, duration) and the two Prometheus series `http_request_duration_seconds` and
 * `http_requests_total` by method, route, status and ok. Returns the recorder everyRequest
 * calls once the request is answered.
 *
 * One clock for both, and each label combination's series looked up once and kept (a handful:
 * routes times statuses): prom-client would otherwise hash a fresh label object per request and
 * series. The log line holds only values the gateway makes itself (its id, its route patterns),
 * never a contact detail.
 */
export function requestTelemetry(options: {
  logger: Logger;
  registry: Registry;
}): (c: Context, requestId: string, startedMs: number) => void {
  const duration = new Histogram({
    name: "http_request_duration_seconds",
    help: "Duration of HTTP requests in seconds",
    labelNames: LABELS,
    buckets: BUCKETS,
    registers: [options.registry],
  });
  const total = new Counter({
    name: "http_requests_total",
    help: "Total number of HTTP requests",
    labelNames: LABELS,
    registers: [options.registry],
  });
  const series = new Map<
    string,
    { duration: { observe(value: number): void }; total: { inc(): void } }
  >();

  function seriesOf(method: string, route: string, status: number) {
    const key = `${method} ${status} ${route}`;
    let found = series.get(key);
    if (!found) {
      const labels = {
        method,
        route,
        status: String(status),
        ok: String(status >= 200 && status < 300),
      };
      found = { duration: duration.labels(labels), total: total.labels(labels) };
      series.set(key, found);
    }
    return found;
  }

  const { logger } = options;
  return (c, requestId, startedMs) => {
    const seconds = (performance.now() - startedMs) / 1000;
    const { method, routePath } = c.req;
    const { status } = c.res;
    const observed = seriesOf(method, routePath, status);
    observed.duration.observe(seconds);
    observed.total.inc();
    logger.info(
      {
        requestId,
        method,
        route: routePath,
        status,
        durationMs: Math.round(seconds * 100_000) / 100,
      },
      "request",
    );
  };
}
