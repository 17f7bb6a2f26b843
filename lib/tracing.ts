/**
 * OpenTelemetry tracing for the gateway and the worker, off unless configured.
 *
 * A process traces only when OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_TRACES_EXPORTER is set;
 * otherwise nothing is registered, `tracingEnabled()` is false and callers skip every span (the
 * API's no-op tracer answers `getTracer()`). The OTLP exporters read the endpoint and headers
 * (OTEL_EXPORTER_OTLP_HEADERS) from the standard variables themselves.
 */
import {
  context,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import type { SpanProcessor } from "@opentelemetry/sdk-trace";
import type { Telemetry } from "bullmq";
import type { TracingEnv } from "./tracing-sdk.js";

/** The name our own spans are made under. */
const TRACER_NAME = "exchange-notification-service";

let enabled = false;
/** Makes BullMQ telemetry; set by `startTracing`, which loads bullmq-otel. */
let makeTelemetry: (() => Telemetry) | undefined;

/** True when the environment asks for traces: an OTLP endpoint or an explicit exporter. */
export function tracingConfigured(env: TracingEnv = process.env): boolean {
  return Boolean(
    env.OTEL_EXPORTER_OTLP_ENDPOINT ||
      (env.OTEL_TRACES_EXPORTER && env.OTEL_TRACES_EXPORTER !== "none"),
  );
}

/** True once `startTracing` registered a provider in this process. */
export function tracingEnabled(): boolean {
  return enabled;
}

/** Our tracer: the registered provider's, or the API's no-op tracer while tracing is off. */
export function getTracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

/** BullMQ's `telemetry` option (bullmq-otel) while tracing is on; undefined, so unset, when off. */
export function bullmqTelemetry(): Telemetry | undefined {
  return enabled ? makeTelemetry?.() : undefined;
}

/** A started tracer provider; `shutdown` flushes the spans still buffered. */
export interface Tracing {
  shutdown(): Promise<void>;
}

/**
 * Starts tracing for this process when the environment asks for it (see `tracingConfigured`),
 * or always when `spanProcessors` are given (tests pass an in-memory exporter's). Registers the
 * provider, an AsyncLocalStorage context manager and the W3C `traceparent` propagator globally.
 * Returns undefined, registering and even loading nothing (the SDK is imported only here), when
 * tracing is off.
 */
export async function startTracing(
  defaultServiceName: string,
  options: { env?: TracingEnv; spanProcessors?: SpanProcessor[] } = {},
): Promise<Tracing | undefined> {
  const env = options.env ?? process.env;
  if (!options.spanProcessors && !tracingConfigured(env)) return undefined;
  const sdk = await import("./tracing-sdk.js");
  const provider = sdk.registerTracing(env.OTEL_SERVICE_NAME || defaultServiceName, env, options);
  makeTelemetry = sdk.bullmqOtel;
  enabled = true;
  return {
    async shutdown() {
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
      enabled = false;
    },
  };
}

/**
 * Runs `fn` inside a new active span (a child of the active one) when tracing is on, ending it
 * after; when off, runs `fn` alone with no span and no cost.
 */
export async function inSpan<T>(
  name: string,
  options: { kind?: SpanKind; attributes?: Record<string, string | number | boolean> },
  fn: (span: Span | undefined) => Promise<T>,
): Promise<T> {
  if (!enabled) return fn(undefined);
  return getTracer().startActiveSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes ?? {} },
    async (span) => {
      try {
        return await fn(span);
      } catch (err) {
        // No message: an error's text may carry what spans must not (contact details).
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw err;
      } finally {
        span.end();
      }
    },
  );
}

/** The active span's ids as log fields (`trace_id`, `span_id`); empty outside any span. */
export function activeTraceFields(): { trace_id?: string; span_id?: string } {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

/** The `traceparent` value naming the active span, for a response header; undefined outside one. */
export function activeTraceparent(): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}
