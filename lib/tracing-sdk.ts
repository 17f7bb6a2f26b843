/**
 * The OpenTelemetry SDK half of tracing.ts, imported only once tracing starts: a process with
 * tracing off never loads the SDK, the exporters or bullmq-otel.
 */
import { context, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter as OtlpJsonExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as OtlpProtoExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  ParentBasedSampler,
  type Sampler,
  type SpanExporter,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import type { Telemetry } from "bullmq";
import { BullMQOtel } from "bullmq-otel";
import { withoutHousekeeping } from "./housekeeping-sampler.js";

/** The environment variables tracing reads (process.env by default). */
export type TracingEnv = Record<string, string | undefined>;

/** The exporter OTEL_TRACES_EXPORTER and OTEL_EXPORTER_OTLP_PROTOCOL name (default otlp, http/protobuf). */
export function exporterFrom(env: TracingEnv): SpanExporter {
  const kind = env.OTEL_TRACES_EXPORTER ?? "otlp";
  if (kind === "console") return new ConsoleSpanExporter();
  if (kind !== "otlp")
    throw new Error(`OTEL_TRACES_EXPORTER: "${kind}" is not supported (otlp, console, none)`);
  const protocol = env.OTEL_EXPORTER_OTLP_PROTOCOL ?? "http/protobuf";
  if (protocol === "http/protobuf") return new OtlpProtoExporter();
  if (protocol === "http/json") return new OtlpJsonExporter();
  throw new Error(
    `OTEL_EXPORTER_OTLP_PROTOCOL: "${protocol}" is not supported (http/protobuf, http/json)`,
  );
}

/** The sampler OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG name (default parentbased_always_on). */
export function samplerFrom(env: TracingEnv = process.env): Sampler {
  const name = env.OTEL_TRACES_SAMPLER ?? "parentbased_always_on";
  const parsed = Number(env.OTEL_TRACES_SAMPLER_ARG ?? "1");
  const ratio = Number.isFinite(parsed) && parsed >= 0 && parsed <= 1 ? parsed : 1;
  switch (name) {
    case "always_on":
      return new AlwaysOnSampler();
    case "always_off":
      return new AlwaysOffSampler();
    case "traceidratio":
      return new TraceIdRatioBasedSampler(ratio);
    case "parentbased_always_on":
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case "parentbased_always_off":
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case "parentbased_traceidratio":
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
    default:
      throw new Error(`OTEL_TRACES_SAMPLER: "${name}" is not supported`);
  }
}

/**
 * Registers a tracer provider for `serviceName` globally, with the sampler (less BullMQ's
 * housekeeping roots) and exporter the environment names (or the given span processors), an
 * AsyncLocalStorage context manager and the W3C `traceparent` propagator.
 */
export function registerTracing(
  serviceName: string,
  env: TracingEnv,
  options: { spanProcessors?: SpanProcessor[] },
): TracerProvider {
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ "service.name": serviceName }),
    // BullMQ's timers (stalled-job checks, lock renewals) would each be a trace of their own.
    sampler: withoutHousekeeping(samplerFrom(env)),
    spanProcessors: options.spanProcessors ?? [
      new BatchSpanProcessor({ exporter: exporterFrom(env) }),
    ],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  return provider;
}

/** BullMQ telemetry over the registered provider (bullmq-otel): a span per queue operation. */
export function bullmqOtel(): Telemetry {
  return new BullMQOtel({ tracerName: "bullmq" });
}
